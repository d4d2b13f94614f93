"""The outbox: every message that leaves the platform.

A message is written in the transaction of the change that causes it and
delivered by the worker after commit (exchange.outbox), so a rolled-back
change sends nothing and a slow or failing gateway never holds a
transaction open. In-app notices are messages too: delivering one makes it
visible in the recipient's list."""

from django.conf import settings
from django.db import models

from chinhquyenso.core.registry import MESSAGE_KINDS


class Message(models.Model):
    class Channel(models.TextChoices):
        IN_APP = "in_app", "Thông báo trên hệ thống"
        EMAIL = "email", "Thư điện tử"
        SMS = "sms", "Tin nhắn SMS"
        ZALO = "zalo", "Tin nhắn Zalo (Official Account)"  # recipient: the OA user id (personal data)
        # A call to another system over the data bus: recipient is the service id, subject the operation,
        # body the JSON request (exchange.bus.delivery).
        BUS = "bus", "Gọi dịch vụ qua trục liên thông"

    class State(models.TextChoices):
        PENDING = "pending", "Chờ gửi"
        SENT = "sent", "Đã gửi"
        FAILED = "failed", "Gửi lỗi, đang thử lại"
        DEAD = "dead", "Gửi lỗi, đã dừng thử lại"
        # A dead letter given up on purpose (a bus call that will never be accepted): no longer holds
        # the later messages with its order_key (exchange.bus.delivery.discard).
        DISCARDED = "discarded", "Đã hủy, không gửi"

    channel = models.CharField("kênh", max_length=10, choices=Channel.choices)
    # E-mail address or phone number; for in-app notices the user below.
    recipient = models.CharField("người nhận", max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="tài khoản nhận thông báo",
    )
    agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="cơ quan",
        help_text="Cơ quan gửi hoặc được nhắc: cán bộ của cơ quan thấy thư, tin nhắn gửi lỗi.",
    )
    kind = models.CharField("loại", max_length=60)  # "<app>.<what>", e.g. dossiers.due_soon, feedback.resolved
    subject = models.CharField("tiêu đề", max_length=255, blank=True)
    body = models.TextField("nội dung")
    link = models.CharField("đường dẫn", max_length=500, blank=True)  # absolute (CQS_SITE_URL)
    # What the message is about ("dossiers.Dossier", "42"): officers' pages list a record's messages.
    source_type = models.CharField("loại đối tượng liên quan", max_length=80, blank=True)
    source_id = models.CharField("mã số đối tượng liên quan", max_length=80, blank=True)
    # Set when a message must go once only (one reminder per dossier, officer and kind).
    dedup_key = models.CharField("khóa chống gửi trùng", max_length=200, null=True, blank=True, unique=True)
    # Messages with the same key are delivered in the order they were written (one dossier's calls to
    # other systems): one waits while an earlier one is not yet sent.
    order_key = models.CharField("khóa thứ tự gửi", max_length=120, blank=True)
    # A one-time secret (a verification code): the body is erased once the message is sent or given up.
    secret = models.BooleanField("chứa mã bí mật (xóa nội dung sau khi gửi)", default=False)
    state = models.CharField("trạng thái", max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField("số lần gửi", default=0)
    last_error = models.CharField("lỗi gần nhất", max_length=500, blank=True)
    next_attempt_at = models.DateTimeField("lần gửi tiếp theo")
    sent_at = models.DateTimeField("thời điểm gửi", null=True, blank=True)
    read_at = models.DateTimeField("thời điểm đọc", null=True, blank=True)
    created_at = models.DateTimeField("thời điểm tạo")

    class Meta:
        verbose_name = "thư, tin nhắn, thông báo"
        verbose_name_plural = "hàng đợi gửi (thư, tin nhắn, thông báo)"
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["user", "channel", "state", "-created_at"], name="outbox_user_notices"),
            models.Index(fields=["source_type", "source_id"], name="outbox_source"),
            models.Index(fields=["agency", "state"], name="outbox_agency_state"),
            models.Index(fields=["order_key", "state", "id"], name="outbox_order"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} — {self.subject or MESSAGE_KINDS.display(self.kind)}"

    @property
    def title(self) -> str:
        """What an officer's page shows for the message: its subject, or the name of its kind."""
        return self.subject or MESSAGE_KINDS.label(self.kind)


class NotificationConsent(models.Model):
    """A citizen's consent to be told about their dossiers and reports on one channel (SMS,
    e-mail, Zalo), with the address to use (Nghị định 13/2023/NĐ-CP: explicit, recorded,
    withdrawable at any time). In-app notices need no consent: they stay inside the account.

    One row per account and channel: giving consent again after withdrawing it sets a new
    `given_at` and clears `withdrawn_at`; every give and withdraw is also an audit record
    (exchange.consent), so the history is kept without the address."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Thư điện tử"
        SMS = "sms", "Tin nhắn SMS"
        ZALO = "zalo", "Tin nhắn Zalo (Official Account)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_consents",
        verbose_name="tài khoản",
    )
    channel = models.CharField("kênh", max_length=10, choices=Channel.choices)
    address = models.CharField("địa chỉ nhận", max_length=255, help_text="Số điện thoại, thư điện tử hoặc mã Zalo.")
    wording = models.TextField("nội dung người dùng đã đồng ý", blank=True)
    given_at = models.DateTimeField("thời điểm đồng ý", null=True, blank=True)
    withdrawn_at = models.DateTimeField("thời điểm rút lại đồng ý", null=True, blank=True)

    class Meta:
        verbose_name = "đồng ý nhận thông báo"
        verbose_name_plural = "đồng ý nhận thông báo"
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="notification_consent_unique")]

    def __str__(self):
        return f"{self.get_channel_display()} — {'đang đồng ý' if self.active else 'không đồng ý'}"

    @property
    def active(self) -> bool:
        return self.given_at is not None and self.withdrawn_at is None

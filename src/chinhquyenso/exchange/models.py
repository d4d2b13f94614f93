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

    class State(models.TextChoices):
        PENDING = "pending", "Chờ gửi"
        SENT = "sent", "Đã gửi"
        FAILED = "failed", "Gửi lỗi, đang thử lại"
        DEAD = "dead", "Gửi lỗi, đã dừng thử lại"

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
        ]

    def __str__(self):
        return f"{self.get_channel_display()} — {self.subject or MESSAGE_KINDS.display(self.kind)}"

    @property
    def title(self) -> str:
        """What an officer's page shows for the message: its subject, or the name of its kind."""
        return self.subject or MESSAGE_KINDS.label(self.kind)

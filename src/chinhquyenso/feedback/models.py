"""Citizen feedback (phản ánh, kiến nghị — PAKN): categories as data, the
reports themselves (an Open311 "service request"), their history, photos,
escalations and phone verifications. Messages to reporters, leaders and the
IOC are exchange.Message rows (the outbox), kind "feedback.<what>"."""

from django.conf import settings
from django.db import models

from chinhquyenso.core.unique import NamedUniqueMessage
from chinhquyenso.feedback.conf import conf
from chinhquyenso.org.models import AgencyKind, Level


class Category(NamedUniqueMessage, models.Model):
    """An IOC domain (lĩnh vực phản ánh) — an Open311 "service". Who handles
    it and in how many working days is data the province edits."""

    code = models.SlugField("mã lĩnh vực", max_length=60, unique=True, help_text="service_code của Open311.")
    name = models.CharField("tên lĩnh vực", max_length=200)
    description = models.TextField("mô tả", blank=True)
    group = models.CharField("nhóm", max_length=100, blank=True)
    keywords = models.CharField("từ khóa", max_length=255, blank=True, help_text="Cách nhau bởi dấu phẩy.")
    handling_level = models.CharField(
        "cấp xử lý",
        max_length=20,
        choices=Level.choices,
        default=Level.COMMUNE,
        help_text="Cấp chính quyền nơi xảy ra sự việc chịu trách nhiệm xử lý (khi không chỉ định cơ quan).",
    )
    handling_kind = models.CharField("loại cơ quan xử lý", max_length=30, choices=AgencyKind.choices, blank=True)
    handling_agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="cơ quan xử lý cố định",
        help_text="Lĩnh vực không theo địa bàn (ví dụ điện, nước): mọi phản ánh chuyển về cơ quan này.",
    )
    handling_days = models.PositiveSmallIntegerField("thời hạn xử lý (ngày làm việc)", default=15)
    refusal_days = models.PositiveSmallIntegerField("thời hạn từ chối (ngày làm việc)", default=2)
    info_request_days = models.PositiveSmallIntegerField("thời hạn yêu cầu bổ sung (ngày làm việc)", default=5)
    attributes = models.JSONField(
        "thông tin bổ sung",
        default=list,
        blank=True,
        help_text='Các trường Open311 "attributes": code, datatype, required, description, order, values.',
    )
    is_active = models.BooleanField("đang dùng", default=True)
    order = models.PositiveSmallIntegerField("thứ tự", default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "lĩnh vực phản ánh"
        verbose_name_plural = "lĩnh vực phản ánh"

    def __str__(self):
        return self.name


class AreaPoint(models.Model):
    """A commune's (or district's) reference point, to route a report placed
    by map pin to the nearest one. Points belong to agency versions, so a
    merged commune's point still routes — to its successor."""

    agency = models.ForeignKey(
        "org.Agency", on_delete=models.CASCADE, related_name="feedback_points", verbose_name="địa bàn"
    )
    latitude = models.DecimalField("vĩ độ", max_digits=9, decimal_places=6)
    longitude = models.DecimalField("kinh độ", max_digits=9, decimal_places=6)

    class Meta:
        verbose_name = "tọa độ địa bàn"
        verbose_name_plural = "tọa độ địa bàn"

    def __str__(self):
        return str(self.agency)


# Escalation levels (feedback.services.escalation raises them; its ESCALATION_LEVELS says the same) and
# the reasons it records.
ESCALATION_LEVEL_CHOICES = [(1, "Sắp đến hạn"), (2, "Quá hạn"), (3, "Chuyển IOC")]
ESCALATION_REASON_CHOICES = [
    ("due_soon", "Sắp đến hạn"),
    ("overdue", "Quá hạn"),
    ("ioc", "Quá hạn lâu hoặc chờ điều phối lâu"),
]


class Status(models.TextChoices):
    RECEIVED = "received", "Đã tiếp nhận"
    ASSIGNED = "assigned", "Đã chuyển cơ quan xử lý"
    IN_PROGRESS = "in_progress", "Đang xử lý"
    WAITING_INFO = "waiting_info", "Chờ người phản ánh bổ sung thông tin"
    RESOLVED = "resolved", "Đã xử lý xong"
    REJECTED = "rejected", "Không thuộc phạm vi xử lý"
    MERGED = "merged", "Trùng, đã gộp vào phản ánh khác"
    SPLIT = "split", "Đã tách thành các phản ánh khác"
    CLOSED = "closed", "Đã đóng"


OPEN_STATUSES = (Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_INFO)


def channel_choices() -> list[tuple[str, str]]:
    """Channel code → its name on the pages, in the timeline and in the administration
    (the mobile app's name is the installation's: CQS["FEEDBACK_APP_NAME"])."""
    return [
        ("web", "Cổng thông tin"),
        ("app", conf("FEEDBACK_APP_NAME")),
        ("open311", "Ứng dụng kết nối (Open311)"),
        ("ioc", "Tổng đài, điều phối viên IOC"),
    ]


class Feedback(models.Model):
    """One report (phản ánh, kiến nghị)."""

    code = models.CharField("mã phản ánh", max_length=30, unique=True, help_text="service_request_id của Open311.")
    token = models.CharField(
        "mã tra cứu (token)", max_length=40, unique=True, help_text="Open311 token, trả về khi gửi."
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports", verbose_name="lĩnh vực")
    title = models.CharField("tiêu đề", max_length=200, blank=True)
    description = models.TextField("nội dung")
    attribute_values = models.JSONField("thông tin bổ sung", default=dict, blank=True)
    # Where it happened. The exact point and address are personal data when it is someone's home:
    # public views show the commune and a rounded point only.
    latitude = models.DecimalField("vĩ độ", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("kinh độ", max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField("địa chỉ", max_length=255, blank=True)
    area = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="địa bàn (xã, huyện)",
    )
    # Who reported it (personal data: never in public pages, API answers or logs).
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
        verbose_name="tài khoản người phản ánh",
    )
    reporter_name = models.CharField("họ tên", max_length=150, blank=True)
    reporter_phone = models.CharField("số điện thoại", max_length=20, blank=True, db_index=True)
    reporter_email = models.EmailField("thư điện tử", blank=True)
    phone_verified = models.BooleanField("đã xác minh số điện thoại", default=False)
    channel = models.CharField("kênh", max_length=20, choices=channel_choices, default="web")
    api_client = models.CharField("ứng dụng gửi", max_length=100, blank=True)
    # Open311 media_url: a link the client app hosts, kept as given (never fetched).
    media_url = models.URLField("đường dẫn ảnh của ứng dụng", max_length=500, blank=True)
    content_hash = models.CharField("mã băm nội dung", max_length=64, db_index=True, help_text="Chống gửi trùng.")
    # Keyed hash of the submitting IP (rate limits); the address itself is never stored.
    client_hash = models.CharField("mã băm địa chỉ gửi", max_length=64, blank=True, db_index=True)
    dossier = models.ForeignKey(
        "dossiers.Dossier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
        verbose_name="hồ sơ liên quan",
    )
    # Handling.
    agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
        verbose_name="cơ quan xử lý",
        help_text="Trống: chờ điều phối viên IOC.",
    )
    status = models.CharField("trạng thái", max_length=20, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField("thời điểm tiếp nhận")
    assigned_at = models.DateTimeField("thời điểm chuyển cơ quan xử lý", null=True, blank=True)
    due_at = models.DateTimeField("hạn xử lý", null=True, blank=True)
    paused_at = models.DateTimeField("thời điểm tạm dừng", null=True, blank=True)
    paused_remaining_days = models.PositiveSmallIntegerField("số ngày còn lại khi tạm dừng", null=True, blank=True)
    # Working days the clock stood still (waiting for the citizen; resolved until reopened).
    paused_working_days = models.PositiveSmallIntegerField("số ngày làm việc tạm dừng", default=0)
    resolved_at = models.DateTimeField("thời điểm xử lý xong", null=True, blank=True)
    # Working days from the start day to the resolution, pauses excluded (average handling time).
    handling_working_days = models.PositiveSmallIntegerField("số ngày làm việc xử lý", null=True, blank=True)
    rejected_at = models.DateTimeField("thời điểm từ chối", null=True, blank=True)
    refusal_on_time = models.BooleanField(
        "từ chối đúng hạn", null=True, help_text="Từ chối trong thời hạn từ chối của lĩnh vực."
    )
    closed_at = models.DateTimeField("thời điểm đóng", null=True, blank=True)
    on_time = models.BooleanField("đúng hạn", null=True, help_text="Xử lý xong trong hạn (đặt khi xử lý xong).")
    public_reply = models.TextField("trả lời công khai", blank=True)
    rejection_reason = models.TextField("lý do từ chối", blank=True)
    rating = models.PositiveSmallIntegerField("mức hài lòng (1–5)", null=True, blank=True)
    rating_comment = models.TextField("nhận xét", blank=True)
    rated_at = models.DateTimeField("thời điểm đánh giá", null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField("số lần mở lại", default=0)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        verbose_name="gộp vào phản ánh",
    )
    split_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="parts", verbose_name="tách từ phản ánh"
    )
    escalation_level = models.PositiveSmallIntegerField(
        "mức chuyển cấp", choices=[(0, "Chưa chuyển cấp"), *ESCALATION_LEVEL_CHOICES], default=0
    )
    updated_at = models.DateTimeField("cập nhật lúc", auto_now=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "phản ánh, kiến nghị"
        verbose_name_plural = "phản ánh, kiến nghị"
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["agency", "status"]),
            models.Index(fields=["category", "received_at"]),
            models.Index(fields=["escalation_level", "status"]),
            # Public lists, newest first (ORDER BY received_at DESC, id DESC) read in index order.
            models.Index(fields=["received_at", "id"], name="feedback_newest"),
            # Covering indexes for the indicator aggregates (feedback.selectors.indicator_measures):
            # each measure reads one date range of one index, never the table.
            models.Index(fields=["received_at", "agency", "status"], name="feedback_received_cover"),
            models.Index(
                fields=["resolved_at", "agency", "status", "on_time", "handling_working_days", "received_at", "due_at"],
                name="feedback_resolved_cover",
            ),
            models.Index(
                fields=["rejected_at", "agency", "status", "received_at", "due_at"], name="feedback_rejected_cover"
            ),
            models.Index(fields=["rated_at", "agency", "status", "rating"], name="feedback_rated_cover"),
            models.Index(fields=["status", "received_at", "agency", "due_at"], name="feedback_open_cover"),
        ]

    def __str__(self):
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class FeedbackEvent(models.Model):
    """Every transition, assignment, reply and escalation, timestamped."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    agency = models.ForeignKey("org.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True)
    is_public = models.BooleanField(default=False, help_text="Công khai cho người phản ánh và trang công khai.")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "diễn biến xử lý phản ánh"
        verbose_name_plural = "diễn biến xử lý phản ánh"

    def __str__(self):
        return f"Diễn biến số {self.pk}: {self.action}"


class Photo(models.Model):
    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="photos")
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+")
    kept_location = models.BooleanField(default=False, help_text="Người phản ánh giữ vị trí GPS trong ảnh.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "ảnh phản ánh"
        verbose_name_plural = "ảnh phản ánh"

    def __str__(self):
        return f"Ảnh {self.order + 1}"


class Escalation(models.Model):
    """A report raised to an agency's leader or to the IOC (due soon, overdue)."""

    feedback = models.ForeignKey(
        Feedback, on_delete=models.CASCADE, related_name="escalations", verbose_name="phản ánh, kiến nghị"
    )
    level = models.PositiveSmallIntegerField("mức", choices=ESCALATION_LEVEL_CHOICES)
    reason = models.CharField("lý do", max_length=40, choices=ESCALATION_REASON_CHOICES)
    to_agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="chuyển đến cơ quan",
    )
    at = models.DateTimeField("thời điểm")
    # The report's reopen count when raised: a reopened report may be escalated again.
    cycle = models.PositiveSmallIntegerField("lần mở lại", default=0)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "chuyển cấp"
        verbose_name_plural = "chuyển cấp (nhắc hạn, quá hạn)"
        constraints = [
            models.UniqueConstraint(fields=["feedback", "level", "cycle"], name="feedback_escalated_once_per_level")
        ]

    def __str__(self):
        return f"{self.feedback} — {self.get_level_display()}"


class PhoneVerification(models.Model):
    """A one-time code sent to an anonymous reporter's phone (hashed)."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "mã xác minh số điện thoại"
        verbose_name_plural = "mã xác minh số điện thoại"

    def __str__(self):
        return f"Mã xác minh số {self.pk}"


class ApiClient(models.Model):
    """An application that submits reports through the Open311 API (a city
    app, Zalo mini app, a partner's kiosk). Not an agency system, so not an
    accounts.ApiToken: its key opens POST /open311/v2/requests and nothing
    else. Only the SHA-256 of the key is stored; the key is shown once."""

    name = models.CharField("tên ứng dụng", max_length=100, unique=True)
    contact = models.CharField("đơn vị phụ trách, liên hệ", max_length=255, blank=True)
    key_prefix = models.CharField("đầu mã", max_length=8, db_index=True)
    key_hash = models.CharField("mã băm SHA-256 của khóa", max_length=64, unique=True)
    created_at = models.DateTimeField("thời điểm cấp", auto_now_add=True)
    revoked_at = models.DateTimeField("thời điểm thu hồi", null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "ứng dụng Open311"
        verbose_name_plural = "ứng dụng Open311 (mã API)"

    def __str__(self):
        return self.name

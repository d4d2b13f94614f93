import base64
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from chinhquyenso.core.models import StoredFile
from chinhquyenso.core.text import format_number
from chinhquyenso.org.models import Agency
from chinhquyenso.procedures.models import Procedure, RequiredComponent


class Channel(models.TextChoices):
    ONLINE = "online", "Trực tuyến"
    COUNTER = "counter", "Trực tiếp tại Bộ phận Một cửa"
    POST = "post", "Qua dịch vụ bưu chính công ích"


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Chờ tiếp nhận"
    SUPPLEMENT_REQUESTED = "supplement_requested", "Yêu cầu bổ sung hồ sơ"
    REFUSED = "refused", "Từ chối tiếp nhận"
    IN_PROCESS = "in_process", "Đang giải quyết"
    PAUSED = "paused", "Tạm dừng, chờ công dân bổ sung"
    RESULT_READY = "result_ready", "Đã có kết quả, chờ trả"
    RETURNED = "returned", "Đã trả kết quả"
    WITHDRAWN = "withdrawn", "Công dân rút hồ sơ"


OPEN_STATUSES = [Status.SUBMITTED, Status.SUPPLEMENT_REQUESTED, Status.IN_PROCESS, Status.PAUSED, Status.RESULT_READY]
# Statuses in which the processing clock has started and not ended.
PROCESSING_STATUSES = [Status.IN_PROCESS, Status.PAUSED]


class Timeliness(models.TextChoices):
    EARLY = "early", "Trước hạn"
    ON_TIME = "on_time", "Đúng hạn"
    LATE = "late", "Trễ hạn"


class Delivery(models.TextChoices):
    COUNTER = "counter", "Tại Bộ phận Một cửa"
    POST = "post", "Qua bưu chính"
    ONLINE = "online", "Trực tuyến"


class Dossier(models.Model):
    code = models.CharField("mã hồ sơ", max_length=40, unique=True)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="dossiers")
    channel = models.CharField("hình thức nộp", max_length=10, choices=Channel.choices)
    status = models.CharField("trạng thái", max_length=24, choices=Status.choices, default=Status.SUBMITTED)

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dossiers")
    applicant_name = models.CharField("người nộp", max_length=200)
    applicant_identity = models.CharField("số định danh", max_length=14)
    applicant_phone = models.CharField("điện thoại", max_length=15, blank=True)
    applicant_address = models.CharField("địa chỉ", max_length=300, blank=True)
    applicant_verified = models.BooleanField("đã xác thực với CSDL dân cư", default=False)
    form_data = models.JSONField("nội dung tờ khai", default=dict, blank=True)

    # The agency that received it never changes; the one holding it moves along
    # the workflow and to successors after a reorganization.
    receiving_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="received_dossiers")
    current_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="held_dossiers")
    current_step = models.PositiveSmallIntegerField(default=0)
    # The specialist named at acceptance (or later by the leader); None: the agency's specialists share it.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_dossiers",
        verbose_name="chuyên viên thụ lý",
    )
    group_code = models.CharField("mã liên thông", max_length=40, blank=True, db_index=True)

    submitted_at = models.DateTimeField("ngày nộp")
    accepted_at = models.DateTimeField("ngày tiếp nhận", null=True, blank=True)
    due_at = models.DateTimeField("hẹn trả kết quả", null=True, blank=True)
    original_due_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField("ngày có kết quả", null=True, blank=True)
    returned_at = models.DateTimeField("ngày trả kết quả", null=True, blank=True)
    closed_at = models.DateTimeField("ngày kết thúc", null=True, blank=True, help_text="Trả, từ chối hoặc rút hồ sơ.")

    paused_at = models.DateTimeField(null=True, blank=True)
    paused_remaining_days = models.PositiveSmallIntegerField(null=True, blank=True)
    rescheduled = models.BooleanField("đã xin lỗi, hẹn lại", default=False)
    timeliness = models.CharField("kết quả đúng hạn", max_length=10, choices=Timeliness.choices, blank=True)

    fee_due = models.PositiveBigIntegerField("phí, lệ phí phải nộp", default=0)
    fee_paid = models.PositiveBigIntegerField("đã nộp", default=0)
    digitized = models.BooleanField("đã số hóa", default=False)
    has_electronic_result = models.BooleanField("có kết quả điện tử", default=False)
    delivery = models.CharField("hình thức trả", max_length=10, choices=Delivery.choices, blank=True)
    imported = models.BooleanField("chuyển từ hệ thống cũ", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "hồ sơ"
        verbose_name_plural = "hồ sơ"
        indexes = [
            models.Index(fields=["current_agency", "status", "due_at"], name="dossier_inbox_idx"),
            # The inbox without a status filter: PostgreSQL reads the first page
            # in order instead of sorting every open dossier of the agency.
            models.Index(
                fields=["current_agency", "due_at", "id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="dossier_open_inbox_idx",
            ),
            models.Index(fields=["receiving_agency", "submitted_at"], name="dossier_received_idx"),
            # Re-aggregating an agency's indicator facts for a few days.
            models.Index(fields=["receiving_agency", "accepted_at"], name="dossier_accepted_idx"),
            models.Index(fields=["receiving_agency", "finished_at"], name="dossier_finished_idx"),
            # Open dossiers per receiving agency and deadline, read from the index alone. The
            # condition has no parameters, so SQLite can match it against a query's WHERE.
            models.Index(
                fields=["receiving_agency", "due_at", "accepted_at"],
                name="dossier_open_received_idx",
                condition=models.Q(finished_at__isnull=True, closed_at__isnull=True),
            ),
            # What was still open at a past period's end: finished, or withdrawn, since then.
            # (Partial, so that SQLite never takes it for "finished_at IS NULL" above.)
            # Covering: what was open at a past end is counted from the index alone.
            models.Index(
                fields=["finished_at", "accepted_at", "due_at", "receiving_agency"],
                name="dossier_finished_at_idx",
                condition=models.Q(finished_at__isnull=False),
            ),
            models.Index(
                fields=["closed_at"],
                condition=models.Q(finished_at__isnull=True, closed_at__isnull=False),
                name="dossier_withdrawn_idx",
            ),
            models.Index(fields=["submitted_at"], name="dossier_submitted_idx"),
            models.Index(fields=["applicant", "submitted_at"], name="dossier_applicant_idx"),
        ]

    def __str__(self):
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


# What each DossierEvent.action means, for timelines and Mẫu 05.
EVENT_LABELS = {
    "submit": "Nộp hồ sơ",
    "accept": "Tiếp nhận hồ sơ",
    "request_supplement": "Yêu cầu bổ sung, hoàn thiện hồ sơ",
    "supplement": "Bổ sung hồ sơ",
    "refuse": "Từ chối tiếp nhận",
    "forward": "Chuyển xử lý",
    "approve": "Phê duyệt, có kết quả",
    "reschedule": "Xin lỗi, hẹn lại ngày trả kết quả",
    "attach_result": "Có kết quả bản điện tử",
    "return_result": "Trả kết quả",
    "withdraw": "Rút hồ sơ",
    "reassign": "Chuyển cơ quan do sắp xếp tổ chức",
    "assign": "Giao chuyên viên thụ lý",
    # Liên thông (dossiers.interconnect): a part handled by another system, moved by the system.
    "part_send": "Gửi hồ sơ liên thông sang hệ thống giải quyết",
    "part_received": "Hệ thống giải quyết đã nhận hồ sơ liên thông",
    "part_processing": "Hệ thống giải quyết đang xử lý hồ sơ liên thông",
    "part_done": "Hệ thống giải quyết trả kết quả hồ sơ liên thông",
    "part_refused": "Hệ thống giải quyết từ chối hồ sơ liên thông",
    "group_close": "Dừng giải quyết theo quy tắc liên thông",
}


class DossierEvent(models.Model):
    """Every transition with its time, actor and agencies: the timeline and the
    processing control slip (Mẫu 05) are read from here."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    from_agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["to_agency", "dossier"])]
        verbose_name = "bước trong quá trình xử lý hồ sơ"
        verbose_name_plural = "quá trình xử lý hồ sơ"

    def __str__(self):
        return f"{self.dossier}: {self.action_label} ({_moment(self.at)})"

    @property
    def action_label(self) -> str:
        return EVENT_LABELS.get(self.action, self.action)


class DossierComponent(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="components")
    required = models.ForeignKey(RequiredComponent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=500)
    file = models.ForeignKey(StoredFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    on_paper = models.BooleanField("nộp bản giấy", default=False)
    reused_from = models.ForeignKey("EDataItem", null=True, blank=True, on_delete=models.PROTECT, related_name="reuses")

    class Meta:
        ordering = ["dossier", "id"]
        verbose_name = "thành phần hồ sơ"
        verbose_name_plural = "thành phần hồ sơ"

    def __str__(self):
        return self.name

    @property
    def provided(self) -> bool:
        return bool(self.file_id or self.on_paper or self.reused_from_id)

    @property
    def digitized(self) -> bool:
        return bool(self.file_id or self.reused_from_id)


class SupplementRequest(models.Model):
    """Mẫu 02: every missing or wrong item, listed at once."""

    class Stage(models.TextChoices):
        RECEPTION = "reception", "Khi tiếp nhận"
        PROCESSING = "processing", "Trong quá trình giải quyết"

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="supplement_requests")
    stage = models.CharField(max_length=12, choices=Stage.choices)
    items = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "yêu cầu bổ sung hồ sơ"
        verbose_name_plural = "yêu cầu bổ sung hồ sơ"

    def __str__(self):
        return f"Yêu cầu bổ sung hồ sơ {self.dossier} ({_moment(self.requested_at)})"


class EDataItem(models.Model):
    """One document in a citizen's or organization's e-data store."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="edata_items")
    result_type = models.CharField(max_length=80, db_index=True)
    title = models.CharField(max_length=300)
    # What the document is about, in words ("Nguyễn Văn An, sinh ngày 01/02/2026"): a family's store
    # holds several birth certificates; and the typed facts behind it (from the dossier's e-form).
    subject = models.CharField("về ai, về việc gì", max_length=255, blank=True)
    facts = models.JSONField("thông tin trên giấy tờ", default=dict, blank=True)
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="+")
    source_dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.SET_NULL, related_name="edata_items"
    )
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = "giấy tờ trong kho dữ liệu điện tử"
        verbose_name_plural = "kho dữ liệu điện tử của công dân, tổ chức"

    def __str__(self):
        return self.title


def new_verification_code() -> str:
    """The code in a result's QR link (/xac-thuc/ket-qua/<code>/): 120 random bits, so codes cannot be
    guessed or walked through; lower-case base32 keeps it short and unambiguous when read aloud."""
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


class SignatureStatus(models.TextChoices):
    """What the platform's verifier said of the result's file when it was issued (the public
    authenticity page checks the stored file again each time it is shown)."""

    VALID = "valid", "Đã ký số, chữ ký hợp lệ"
    UNSIGNED = "unsigned", "Chưa ký số"


class ElectronicResult(models.Model):
    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="electronic_result")
    number = models.CharField("số, ký hiệu", max_length=60, blank=True)
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="+")
    edata_item = models.OneToOneField(EDataItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    verification_code = models.CharField(
        "mã xác thực", max_length=40, unique=True, default=new_verification_code, editable=False
    )
    # Signed with the issuing agency's key (dossiers.results); unsigned only where the installation
    # allows it (CQS_RESULTS_REQUIRE_SIGNATURE=0) for an agency with no key configured.
    signed = models.BooleanField("đã ký số", default=False)
    signature_status = models.CharField(
        "tình trạng chữ ký khi cấp", max_length=20, choices=SignatureStatus.choices, default=SignatureStatus.UNSIGNED
    )
    signed_at = models.DateTimeField("thời điểm ký", null=True, blank=True)
    # The agency that issued (and signed) it: the dossier's current agency at that moment, which the
    # dossier later leaves (the counter returns the result). Empty for results issued before this field.
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="cơ quan cấp"
    )

    class Meta:
        verbose_name = "kết quả điện tử"
        verbose_name_plural = "kết quả điện tử"

    def __str__(self):
        number = f" số {self.number}" if self.number else ""
        return f"Kết quả điện tử{number} của hồ sơ {self.dossier}"


class Payment(models.Model):
    class Method(models.TextChoices):
        ONLINE = "online", "Trực tuyến"
        COUNTER = "counter", "Tại quầy"

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveBigIntegerField()
    method = models.CharField(max_length=10, choices=Method.choices)
    transaction_ref = models.CharField(max_length=80, blank=True)
    paid_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["transaction_ref"],
                condition=~models.Q(transaction_ref=""),
                name="payment_transaction_ref_unique",
            )
        ]
        verbose_name = "khoản nộp phí, lệ phí"
        verbose_name_plural = "khoản nộp phí, lệ phí"

    def __str__(self):
        return f"{format_number(self.amount)} đồng — hồ sơ {self.dossier} ({self.get_method_display().lower()})"


class DossierComment(models.Model):
    """An officers' internal note on a dossier; never shown to the citizen."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("ý kiến")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "ý kiến nội bộ về hồ sơ"
        verbose_name_plural = "ý kiến nội bộ về hồ sơ"

    def __str__(self):
        return f"Ý kiến về hồ sơ {self.dossier} ({_moment(self.created_at)})"


def _moment(at) -> str:
    """A moment as officers read it: local time, day first."""
    return f"{timezone.localtime(at):%H:%M %d/%m/%Y}" if at else "chưa rõ thời điểm"


class GroupApplication(models.Model):
    """Liên thông: one application for a group of procedures (procedures.ProcedureGroup), one dossier
    per member, linked by `code` (the dossiers' group_code). dossiers.interconnect moves it along."""

    code = models.CharField("mã hồ sơ liên thông", max_length=40, unique=True)
    group = models.ForeignKey(
        "procedures.ProcedureGroup", on_delete=models.PROTECT, related_name="+", verbose_name="nhóm thủ tục"
    )
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField("ngày nộp")
    finished_at = models.DateTimeField("ngày hoàn thành", null=True, blank=True)

    class Meta:
        verbose_name = "hồ sơ liên thông"
        verbose_name_plural = "hồ sơ liên thông"

    def __str__(self):
        return self.code


class PartStatus(models.TextChoices):
    WAITING = "waiting", "Chờ kết quả thủ tục trước"
    LOCAL = "local", "Giải quyết tại cơ quan trong tỉnh"
    QUEUED = "queued", "Đang gửi sang hệ thống giải quyết"
    FAILED = "failed", "Gửi chưa được, đang chờ gửi lại"
    RECEIVED = "received", "Hệ thống giải quyết đã nhận"
    PROCESSING = "processing", "Đang giải quyết"
    DONE = "done", "Đã có kết quả"
    REFUSED = "refused", "Bị từ chối"
    CLOSED = "closed", "Dừng, không giải quyết"


# Terminal part statuses: nothing from outside changes them again.
PART_FINAL = (PartStatus.DONE, PartStatus.REFUSED, PartStatus.CLOSED)


class GroupPart(models.Model):
    """One member of an interconnected application: its dossier, and where and how it is handled.
    The rules (connector, remote procedure, after, on_failure) are copied from the group's member at
    submission, so an edit of the group never changes an application already under way. An external
    part carries a random `reference` (never personal data) the remote system answers about."""

    application = models.ForeignKey(GroupApplication, on_delete=models.CASCADE, related_name="parts")
    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="group_part")
    order = models.PositiveSmallIntegerField("thứ tự", default=1)
    procedure_code = models.CharField("mã thủ tục", max_length=40)
    connector = models.CharField("hệ thống giải quyết", max_length=40, blank=True)
    remote_procedure = models.CharField("thủ tục bên hệ thống kia", max_length=80, blank=True)
    after = models.JSONField("chờ kết quả của", default=list, blank=True)
    on_failure = models.CharField("khi không thành", max_length=10, default="notify")
    reference = models.CharField("mã tham chiếu", max_length=40, unique=True)
    request_id = models.CharField("mã yêu cầu bên hệ thống kia", max_length=80, blank=True)
    status = models.CharField("trạng thái", max_length=12, choices=PartStatus.choices)
    reason = models.TextField("lý do", blank=True)
    result = models.JSONField("kết quả", default=dict, blank=True)
    rule_note = models.TextField("quy tắc đã áp dụng", blank=True)
    sent_at = models.DateTimeField("ngày gửi", null=True, blank=True)
    due_at = models.DateTimeField("hạn giải quyết", null=True, blank=True)
    acknowledged_at = models.DateTimeField("ngày hệ thống kia nhận", null=True, blank=True)
    remote_at = models.DateTimeField("thời điểm tin mới nhất của hệ thống kia", null=True, blank=True)
    finished_at = models.DateTimeField("ngày kết thúc", null=True, blank=True)
    polled_at = models.DateTimeField("lần hỏi trạng thái gần nhất", null=True, blank=True)

    class Meta:
        ordering = ["application", "order"]
        indexes = [models.Index(fields=["status", "remote_at"], name="group_part_status_idx")]
        verbose_name = "thủ tục trong hồ sơ liên thông"
        verbose_name_plural = "thủ tục trong hồ sơ liên thông"

    def __str__(self):
        return f"{self.application}: {self.procedure_code}"

    @property
    def external(self) -> bool:
        return bool(self.connector)

    @property
    def is_final(self) -> bool:
        return self.status in PART_FINAL

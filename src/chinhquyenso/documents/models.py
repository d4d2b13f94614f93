"""Documents (quản lý văn bản và điều hành): outgoing documents (văn bản đi) drafted, approved,
signed, numbered and issued; incoming documents (văn bản đến) registered, assigned and handled;
the registers (sổ văn bản) that number them, per Nghị định 30/2020/NĐ-CP.

One `Document` model holds both directions: the fields that describe a document as its issuer
wrote it (type, number, symbol, date, excerpt, signer, urgency) are the same, and an incoming
document delivered inside the province is a copy of the sender's outgoing one. Writes go through
documents.services (the Workflow instances are in documents.workflow); see docs/documents.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from chinhquyenso.accounts.models import Role


class Direction(models.TextChoices):
    OUTGOING = "outgoing", "Văn bản đi"
    INCOMING = "incoming", "Văn bản đến"


class Urgency(models.TextChoices):
    """Mức độ khẩn (Nghị định 30/2020, Phụ lục I, mục 11)."""

    NORMAL = "normal", "Thường"
    URGENT = "urgent", "Khẩn"
    VERY_URGENT = "very_urgent", "Thượng khẩn"
    FLASH = "flash", "Hỏa tốc"


class Confidentiality(models.TextChoices):
    """Độ mật. All four are named so that a secret document sent to us is recognised and refused
    with a message; only NORMAL is ever stored (a database constraint keeps it so): secret documents
    are handled under the law on protecting state secrets, outside this system."""

    NORMAL = "normal", "Thường"
    SECRET = "secret", "Mật"
    TOP_SECRET = "top_secret", "Tối mật"
    ABSOLUTE_SECRET = "absolute_secret", "Tuyệt mật"


class DocumentType(models.Model):
    """A kind of administrative document (Nghị định 30/2020, Phụ lục III): its name and the
    abbreviation used in the symbol (QĐ, TB, TTr…; the official letter — công văn — has none,
    its symbol carries the drafting unit's abbreviation instead). Data, editable in the admin."""

    code = models.SlugField("mã", max_length=40, unique=True)
    name = models.CharField("tên loại văn bản", max_length=120)
    abbreviation = models.CharField(
        "chữ viết tắt", max_length=10, blank=True, help_text="Để trống với công văn (không có tên loại)."
    )
    order = models.PositiveSmallIntegerField("thứ tự", default=0)
    active = models.BooleanField("đang dùng", default=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "loại văn bản"
        verbose_name_plural = "loại văn bản"

    def __str__(self):
        return self.name

    @property
    def is_official_letter(self) -> bool:
        """Công văn: a document without a type name in its symbol."""
        return not self.abbreviation


class ApprovalFlow(models.Model):
    """Who reviews and approves an outgoing draft, step by step (the drafter's submission is not
    a step). Per agency and optionally per document type; the shipped default (agency empty,
    documents/data/approval_flows.json) applies where an agency has configured none."""

    agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_flows",
        verbose_name="cơ quan",
        help_text="Để trống: quy trình mặc định cho mọi cơ quan chưa cấu hình.",
    )
    document_type = models.ForeignKey(
        DocumentType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="loại văn bản",
        help_text="Để trống: áp dụng cho mọi loại văn bản khác.",
    )
    name = models.CharField("tên quy trình", max_length=200)
    active = models.BooleanField("đang dùng", default=True)

    class Meta:
        verbose_name = "quy trình duyệt văn bản đi"
        verbose_name_plural = "quy trình duyệt văn bản đi"
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "document_type"],
                condition=models.Q(active=True),
                name="approvalflow_one_active",
            )
        ]

    def __str__(self):
        return self.name


class ApprovalStep(models.Model):
    """One step of a flow: an account with `role` in the document's agency reviews (and, at the
    last step, approves) the draft."""

    flow = models.ForeignKey(ApprovalFlow, on_delete=models.CASCADE, related_name="steps", verbose_name="quy trình")
    order = models.PositiveSmallIntegerField("thứ tự")
    role = models.CharField("vai trò", max_length=20, choices=Role.choices)
    name = models.CharField("tên bước", max_length=200)

    class Meta:
        ordering = ["flow", "order"]
        verbose_name = "bước duyệt"
        verbose_name_plural = "bước duyệt"
        constraints = [models.UniqueConstraint(fields=["flow", "order"], name="approvalstep_order_unique")]

    def __str__(self):
        return f"{self.order}. {self.name}"


class Register(models.Model):
    """Sổ văn bản: numbers the agency's outgoing documents (số) or incoming ones (số đến) for one
    year — numbers start at 01 on 1 January (Nghị định 30/2020, Điều 15 and 22). Its counter is
    core.codes' key `counter_key`, so numbers have no gaps and no duplicates under concurrency.
    An outgoing register numbers `document_types`; one with none numbers every other type."""

    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="registers", verbose_name="cơ quan")
    year = models.PositiveSmallIntegerField("năm")
    direction = models.CharField("loại sổ", max_length=10, choices=Direction.choices)
    name = models.CharField("tên sổ", max_length=200)
    document_types = models.ManyToManyField(
        DocumentType,
        blank=True,
        related_name="registers",
        verbose_name="loại văn bản được đăng ký",
        help_text="Để trống: sổ chung cho mọi loại văn bản không có sổ riêng.",
    )
    agency_abbreviation = models.CharField(
        "chữ viết tắt tên cơ quan",
        max_length=30,
        help_text="Dùng trong ký hiệu văn bản, ví dụ UBND trong 12/QĐ-UBND.",
    )
    active = models.BooleanField("đang dùng", default=True)
    created_at = models.DateTimeField("thời điểm tạo", auto_now_add=True)

    class Meta:
        ordering = ["agency", "-year", "direction", "name"]
        verbose_name = "sổ văn bản"
        verbose_name_plural = "sổ văn bản"
        constraints = [
            models.UniqueConstraint(fields=["agency", "year", "direction", "name"], name="register_unique_name")
        ]

    def __str__(self):
        return f"{self.name} ({self.year})"

    @property
    def counter_key(self) -> str:
        return f"documents.register:{self.pk}"


class Document(models.Model):
    """A document in one agency's hands: outgoing (the issuing agency's) or incoming (the receiving
    agency's). `number`, `symbol`, `issued_on`, signer and excerpt describe the document as its
    issuer wrote it — for an incoming document, the sender's; `arrival_number`/`arrival_date`
    are the receiving agency's incoming register."""

    class Status(models.TextChoices):
        # Outgoing
        DRAFT = "draft", "Dự thảo"
        IN_REVIEW = "in_review", "Đang trình duyệt"
        APPROVED = "approved", "Đã duyệt"
        SIGNED = "signed", "Lãnh đạo đã ký"
        NUMBERED = "numbered", "Đã cấp số, chờ ký số cơ quan"
        ISSUED = "issued", "Đã ban hành"
        RECALLED = "recalled", "Đã thu hồi"
        REPLACED = "replaced", "Đã bị thay thế"
        # Incoming
        REGISTERED = "registered", "Đã vào sổ"
        ASSIGNED = "assigned", "Đã phân công"
        IN_PROCESS = "in_process", "Đang xử lý"
        DONE = "done", "Đã xử lý xong"
        RETURNED = "returned", "Đã trả lại"

    OUTGOING_STATUSES = ("draft", "in_review", "approved", "signed", "numbered", "issued", "recalled", "replaced")
    INCOMING_STATUSES = ("registered", "assigned", "in_process", "done", "returned")

    direction = models.CharField("chiều", max_length=10, choices=Direction.choices)
    agency = models.ForeignKey(
        "org.Agency",
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name="cơ quan",
        help_text="Cơ quan ban hành (văn bản đi) hoặc cơ quan nhận (văn bản đến).",
    )
    register = models.ForeignKey(
        Register, null=True, blank=True, on_delete=models.PROTECT, related_name="documents", verbose_name="sổ"
    )
    status = models.CharField("trạng thái", max_length=20, choices=Status.choices)

    # As the issuer wrote it (Nghị định 30/2020, Phụ lục I).
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="documents", verbose_name="loại văn bản"
    )
    number = models.PositiveIntegerField("số", null=True, blank=True)
    symbol = models.CharField("số, ký hiệu", max_length=100, blank=True, db_index=True)
    unit_abbreviation = models.CharField(
        "chữ viết tắt đơn vị soạn thảo",
        max_length=30,
        blank=True,
        help_text="Dùng trong ký hiệu công văn, ví dụ VP trong 12/UBND-VP.",
    )
    excerpt = models.TextField("trích yếu", max_length=1000)
    issued_on = models.DateField("ngày ban hành", null=True, blank=True)
    place = models.CharField("địa danh", max_length=100, blank=True)
    signer_name = models.CharField("người ký", max_length=150, blank=True)
    signer_title = models.CharField("chức vụ người ký", max_length=150, blank=True)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="tài khoản người ký",
    )
    urgency = models.CharField("độ khẩn", max_length=20, choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = models.CharField(
        "độ mật", max_length=20, choices=Confidentiality.choices, default=Confidentiality.NORMAL
    )
    is_directive = models.BooleanField(
        "văn bản chỉ đạo", default=False, help_text="Văn bản chỉ đạo, điều hành: nhiệm vụ được theo dõi đến khi xong."
    )
    deadline = models.DateField(
        "hạn xử lý",
        null=True,
        blank=True,
        help_text="Văn bản đến: hạn giải quyết; văn bản đi: hạn trả lời đề nghị nơi nhận.",
    )

    # Files and signatures.
    current_file = models.ForeignKey(
        "core.StoredFile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="tệp hiện hành",
    )
    signed = models.BooleanField("đã ký số", default=False)
    signature_count = models.PositiveSmallIntegerField("số chữ ký số", default=0)
    electronic = models.BooleanField("văn bản điện tử", default=False, help_text="Gửi, nhận qua mạng.")

    # Outgoing: drafting and approval.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người tạo",
    )
    approval_flow = models.ForeignKey(
        ApprovalFlow,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="quy trình duyệt",
    )
    approval_step = models.PositiveSmallIntegerField(
        "bước duyệt hiện tại", default=0, help_text="Số bước đã duyệt xong của quy trình."
    )
    issue_error = models.CharField("lỗi khi ban hành", max_length=500, blank=True)
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        verbose_name="thay thế văn bản",
    )
    recalled_at = models.DateTimeField("thời điểm thu hồi", null=True, blank=True)
    recall_reason = models.CharField("lý do thu hồi", max_length=500, blank=True)

    # Incoming.
    sender_agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="cơ quan gửi (trong tỉnh)",
    )
    sender_code = models.CharField("mã định danh cơ quan gửi", max_length=30, blank=True)
    sender_name = models.CharField("cơ quan gửi", max_length=255, blank=True)
    arrival_number = models.PositiveIntegerField("số đến", null=True, blank=True)
    arrival_date = models.DateField("ngày đến", null=True, blank=True)
    source_document = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="delivered_copies",
        verbose_name="văn bản đi gốc (trong tỉnh)",
    )
    external_id = models.CharField(
        "mã văn bản của bên gửi",
        max_length=100,
        blank=True,
        help_text="Văn bản đến qua trục liên thông: mã văn bản do hệ thống gửi cấp.",
    )
    bus_message_id = models.CharField("mã thông điệp trên trục", max_length=100, blank=True)
    completed_at = models.DateTimeField("thời điểm xử lý xong", null=True, blank=True)

    # Search (filled by documents.search): the PDF's text and the folded text searched.
    content_text = models.TextField("nội dung trích từ tệp", blank=True)
    search_text = models.TextField("văn bản tìm kiếm (không dấu)", blank=True, editable=False)
    content_sha256 = models.CharField(
        "tệp đã trích nội dung", max_length=64, blank=True, help_text="SHA-256 của tệp đã trích nội dung."
    )

    created_at = models.DateTimeField("thời điểm tạo", auto_now_add=True)
    updated_at = models.DateTimeField("thời điểm cập nhật", auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "văn bản"
        verbose_name_plural = "văn bản"
        indexes = [
            models.Index(fields=["agency", "direction", "status"], name="document_agency_dir_status"),
            models.Index(fields=["direction", "issued_on"], name="document_dir_issued"),
            models.Index(fields=["direction", "arrival_date"], name="document_dir_arrival"),
            models.Index(fields=["deadline", "status"], name="document_deadline_status"),
        ]
        constraints = [
            # Secret documents never enter this system (they are refused before saving).
            models.CheckConstraint(condition=models.Q(confidentiality="normal"), name="document_not_secret"),
            models.UniqueConstraint(
                fields=["register", "number"],
                condition=models.Q(direction="outgoing", number__isnull=False),
                name="document_register_number_unique",
            ),
            models.UniqueConstraint(
                fields=["register", "arrival_number"],
                condition=models.Q(direction="incoming", arrival_number__isnull=False),
                name="document_register_arrival_unique",
            ),
            # A document received over the bus is registered once per receiving agency.
            models.UniqueConstraint(
                fields=["agency", "sender_code", "external_id"],
                condition=models.Q(direction="incoming") & ~models.Q(external_id=""),
                name="document_incoming_external_unique",
            ),
        ]

    def __str__(self):
        if self.symbol:
            return f"{self.symbol} — {self.excerpt[:80]}"
        return f"Dự thảo số {self.pk}: {self.excerpt[:80]}"

    @property
    def is_outgoing(self) -> bool:
        return self.direction == Direction.OUTGOING

    @property
    def is_incoming(self) -> bool:
        return self.direction == Direction.INCOMING


class DocumentVersion(models.Model):
    """Each file a document had: drafts, the leader-signed file, the issued (agency-signed) file."""

    class Kind(models.TextChoices):
        DRAFT = "draft", "Dự thảo"
        PERSONAL_SIGNED = "personal_signed", "Bản lãnh đạo đã ký"
        ISSUED = "issued", "Bản ban hành (đã ký số cơ quan)"
        RECEIVED = "received", "Bản nhận được"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions", verbose_name="văn bản")
    number = models.PositiveSmallIntegerField("phiên bản")
    kind = models.CharField("loại", max_length=20, choices=Kind.choices, default=Kind.DRAFT)
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+", verbose_name="tệp")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("ghi chú", max_length=500, blank=True)
    created_at = models.DateTimeField("thời điểm tạo", auto_now_add=True)

    class Meta:
        ordering = ["document", "number"]
        verbose_name = "phiên bản văn bản"
        verbose_name_plural = "phiên bản văn bản"
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="documentversion_unique")]

    def __str__(self):
        return f"Phiên bản {self.number}"


class Attachment(models.Model):
    """A file that goes with the document (phụ lục, tài liệu kèm theo), not the document itself."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="attachments", verbose_name="văn bản")
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+", verbose_name="tệp")
    name = models.CharField("tên tệp", max_length=255)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("thời điểm thêm", auto_now_add=True)

    class Meta:
        ordering = ["document", "id"]
        verbose_name = "tệp đính kèm"
        verbose_name_plural = "tệp đính kèm"

    def __str__(self):
        return self.name


class DocumentComment(models.Model):
    """A reviewer's or drafter's comment on a draft (góp ý)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="comments", verbose_name="văn bản")
    version = models.ForeignKey(
        DocumentVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField("nội dung", max_length=4000)
    created_at = models.DateTimeField("thời điểm", auto_now_add=True)

    class Meta:
        ordering = ["document", "created_at", "id"]
        verbose_name = "ý kiến góp ý"
        verbose_name_plural = "ý kiến góp ý"

    def __str__(self):
        return f"Ý kiến số {self.pk}"


class Recipient(models.Model):
    """One addressee of an outgoing document (nơi nhận) and how far it got there: an agency of this
    installation (delivered straight into its incoming register) or an outside one by electronic
    code (over the data bus); paper recipients are listed, not tracked."""

    class Channel(models.TextChoices):
        INTERNAL = "internal", "Trong tỉnh (trực tiếp)"
        BUS = "bus", "Trục liên thông văn bản"
        PAPER = "paper", "Bản giấy"

    class Status(models.TextChoices):
        PENDING = "pending", "Chờ gửi"
        SENT = "sent", "Đã gửi"
        RECEIVED = "received", "Đã nhận"
        ASSIGNED = "assigned", "Đã phân công"
        IN_PROCESS = "in_process", "Đang xử lý"
        DONE = "done", "Đã xử lý xong"
        RETURNED = "returned", "Bị trả lại"
        FAILED = "failed", "Gửi lỗi"
        RECALLED = "recalled", "Đã thu hồi"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="recipients", verbose_name="văn bản")
    channel = models.CharField("kênh gửi", max_length=10, choices=Channel.choices)
    agency = models.ForeignKey(
        "org.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="cơ quan nhận"
    )
    electronic_code = models.CharField("mã định danh cơ quan nhận", max_length=30, blank=True)
    name = models.CharField("tên nơi nhận", max_length=255)
    status = models.CharField("trạng thái", max_length=20, choices=Status.choices, default=Status.PENDING)
    incoming_document = models.OneToOneField(
        Document,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_recipient",
        verbose_name="văn bản đến tương ứng",
    )
    exchange_id = models.CharField("mã văn bản trên trục liên thông", max_length=100, blank=True, db_index=True)
    note = models.CharField("ghi chú", max_length=500, blank=True)
    sent_at = models.DateTimeField("gửi lúc", null=True, blank=True)
    received_at = models.DateTimeField("nhận lúc", null=True, blank=True)
    assigned_at = models.DateTimeField("phân công lúc", null=True, blank=True)
    in_process_at = models.DateTimeField("bắt đầu xử lý lúc", null=True, blank=True)
    done_at = models.DateTimeField("xử lý xong lúc", null=True, blank=True)
    returned_at = models.DateTimeField("trả lại lúc", null=True, blank=True)
    failed_at = models.DateTimeField("gửi lỗi lúc", null=True, blank=True)
    status_at = models.DateTimeField("trạng thái cập nhật lúc", null=True, blank=True)

    class Meta:
        ordering = ["document", "id"]
        verbose_name = "nơi nhận"
        verbose_name_plural = "nơi nhận"
        constraints = [
            models.UniqueConstraint(
                fields=["document", "agency"], condition=models.Q(agency__isnull=False), name="recipient_agency_unique"
            ),
            models.UniqueConstraint(
                fields=["document", "electronic_code"],
                condition=models.Q(agency__isnull=True) & ~models.Q(electronic_code=""),
                name="recipient_code_unique",
            ),
        ]

    def __str__(self):
        return self.name


class Assignment(models.Model):
    """An incoming document given by a leader to a unit and/or a person to handle (phân công,
    bút phê), with a deadline; a directive document's assignments are tasks tracked to completion."""

    class Role(models.TextChoices):
        LEAD = "lead", "Chủ trì"
        SUPPORT = "support", "Phối hợp"
        INFORM = "inform", "Để biết"

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "Được giao"
        IN_PROCESS = "in_process", "Đang xử lý"
        DONE = "done", "Hoàn thành"
        CANCELLED = "cancelled", "Đã hủy"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="assignments", verbose_name="văn bản")
    agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="đơn vị xử lý",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="document_assignments",
        verbose_name="người xử lý",
    )
    role = models.CharField("vai trò", max_length=10, choices=Role.choices, default=Role.LEAD)
    instructions = models.TextField("ý kiến chỉ đạo (bút phê)", max_length=2000, blank=True)
    deadline = models.DateField("hạn xử lý", null=True, blank=True)
    status = models.CharField("trạng thái", max_length=20, choices=Status.choices, default=Status.ASSIGNED)
    is_directive = models.BooleanField("nhiệm vụ chỉ đạo", default=False)
    progress_note = models.TextField("tiến độ", max_length=4000, blank=True)
    result_note = models.TextField("kết quả", max_length=4000, blank=True)
    result_document = models.ForeignKey(
        Document,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="văn bản trả lời",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField("thời điểm giao")
    completed_at = models.DateTimeField("thời điểm hoàn thành", null=True, blank=True)
    last_reminded_on = models.DateField("ngày nhắc gần nhất", null=True, blank=True)

    class Meta:
        ordering = ["document", "id"]
        verbose_name = "phân công xử lý"
        verbose_name_plural = "phân công xử lý"
        indexes = [
            models.Index(fields=["status", "deadline"], name="assignment_status_deadline"),
            models.Index(fields=["user", "status"], name="assignment_user_status"),
            models.Index(fields=["agency", "status"], name="assignment_agency_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(agency__isnull=False) | models.Q(user__isnull=False), name="assignment_has_assignee"
            )
        ]

    def __str__(self):
        return f"Phân công số {self.pk}"


class DocumentStep(models.Model):
    """The document's timeline: every action, by whom, when, from which status to which."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="steps", verbose_name="văn bản")
    at = models.DateTimeField("thời điểm")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField("hành động", max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    agency = models.ForeignKey("org.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps")
    recipient = models.ForeignKey(Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps")
    text = models.TextField("ghi chú", blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "diễn biến xử lý văn bản"
        verbose_name_plural = "diễn biến xử lý văn bản"

    def __str__(self):
        return f"Diễn biến số {self.pk}: {self.action}"

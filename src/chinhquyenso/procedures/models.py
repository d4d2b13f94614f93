import re

from django.conf import settings
from django.db import models

from chinhquyenso.core.unique import NamedUniqueMessage
from chinhquyenso.org.models import Agency, Level


class ServiceLevel(models.TextChoices):
    INFO_ONLY = "info_only", "Cung cấp thông tin"
    PARTLY_ONLINE = "partly_online", "Trực tuyến một phần"
    FULL_ONLINE = "full_online", "Trực tuyến toàn trình"


class Field(NamedUniqueMessage, models.Model):
    """Lĩnh vực: hộ tịch, đất đai, …"""

    code = models.SlugField("mã", max_length=60, unique=True)
    name = models.CharField("tên lĩnh vực", max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name = "lĩnh vực"
        verbose_name_plural = "lĩnh vực"

    def __str__(self):
        return self.name


class Procedure(NamedUniqueMessage, models.Model):
    code = models.CharField("mã thủ tục", max_length=40, unique=True)
    name = models.CharField("tên thủ tục", max_length=500)
    name_folded = models.CharField("tên không dấu (để tìm kiếm)", max_length=500, db_index=True, editable=False)
    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="procedures", verbose_name="lĩnh vực")
    levels = models.JSONField(
        "cấp thực hiện", default=list, help_text='Danh sách trong "province", "district", "commune".'
    )
    service_level = models.CharField(
        "mức độ dịch vụ công", max_length=20, choices=ServiceLevel.choices, default=ServiceLevel.PARTLY_ONLINE
    )
    processing_days = models.PositiveSmallIntegerField("thời hạn giải quyết (ngày làm việc)")
    fee = models.PositiveBigIntegerField("phí (đồng)", default=0)
    charge = models.PositiveBigIntegerField("lệ phí (đồng)", default=0)
    online_discount_percent = models.PositiveSmallIntegerField(
        "giảm khi nộp trực tuyến (%)", default=0, help_text="Ví dụ 50 theo Nghị quyết 02/2024/NQ-HĐND tỉnh An Giang."
    )
    result_type = models.CharField(
        "loại kết quả",
        max_length=80,
        blank=True,
        help_text="Mã loại giấy tờ kết quả, ví dụ giay-khai-sinh; dùng để tái sử dụng trong kho dữ liệu.",
    )
    result_name = models.CharField("tên kết quả", max_length=255, blank=True)
    legal_basis = models.TextField("căn cứ pháp lý", blank=True)
    is_active = models.BooleanField("đang áp dụng", default=True)
    updated_at = models.DateTimeField("cập nhật lúc", auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "thủ tục hành chính"
        verbose_name_plural = "thủ tục hành chính"

    def __str__(self):
        return f"{self.code} — {self.name}"

    def amount_due(self, online: bool) -> int:
        total = self.fee + self.charge
        if online and self.online_discount_percent:
            total -= total * self.online_discount_percent // 100
        return total


class RequiredComponent(models.Model):
    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="components", verbose_name="thủ tục hành chính"
    )
    order = models.PositiveSmallIntegerField("thứ tự", default=1)
    name = models.CharField("tên giấy tờ", max_length=500)
    originals = models.PositiveSmallIntegerField("số bản chính", default=1)
    copies = models.PositiveSmallIntegerField("số bản sao", default=0)
    mandatory = models.BooleanField("bắt buộc", default=True)
    reusable_result_type = models.CharField(
        "thay bằng kết quả điện tử loại",
        max_length=80,
        blank=True,
        help_text="Nếu công dân đã có kết quả điện tử loại này trong kho dữ liệu thì không phải nộp lại.",
    )

    class Meta:
        ordering = ["procedure", "order"]
        constraints = [models.UniqueConstraint(fields=["procedure", "order"], name="component_order_unique")]
        verbose_name = "thành phần hồ sơ"
        verbose_name_plural = "thành phần hồ sơ"

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        """The name as shown to citizens and officers: an optional component
        gets "(nếu có)", unless its name already states when it is needed
        ("Văn bản ủy quyền (nếu nộp thay)") — never two conditions in a row."""
        if self.mandatory or _STATED_CONDITION.search(self.name):
            return self.name
        return f"{self.name} (nếu có)"


# A trailing "(nếu …)", "(trường hợp …)", "(đối với …)": the name already says when it is needed.
_STATED_CONDITION = re.compile(r"\(\s*(nếu|trong trường hợp|trường hợp|đối với)\b[^()]*\)\s*$", re.IGNORECASE)


class ProcessStep(models.Model):
    """One step of the handling workflow (thụ lý, phê duyệt…). A step with an
    `agency_kind` runs in another agency (interlinked processing)."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="steps", verbose_name="thủ tục hành chính"
    )
    order = models.PositiveSmallIntegerField("thứ tự", default=1)
    name = models.CharField("tên bước", max_length=200)
    role = models.CharField("vai trò thực hiện", max_length=20)
    days = models.DecimalField("thời gian (ngày làm việc)", max_digits=5, decimal_places=1, default=1)
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="cơ quan thực hiện",
        help_text="Để trống: cơ quan đang giải quyết hồ sơ.",
    )

    class Meta:
        ordering = ["procedure", "order"]
        constraints = [models.UniqueConstraint(fields=["procedure", "order"], name="step_order_unique")]
        verbose_name = "bước xử lý"
        verbose_name_plural = "bước xử lý"

    def __str__(self):
        return f"Bước {self.order}: {self.name}"


class ProcedureAgency(models.Model):
    """Which agency handles a procedure, and when (authority can be transferred)."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="assignments", verbose_name="thủ tục hành chính"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="procedure_assignments", verbose_name="cơ quan"
    )
    valid_from = models.DateField("từ ngày", default="2000-01-01")
    valid_to = models.DateField("đến ngày", null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agency", "valid_to"])]
        verbose_name = "cơ quan giải quyết"
        verbose_name_plural = "cơ quan giải quyết"

    def __str__(self):
        if self.valid_to:
            return f"{self.agency} (đến {self.valid_to:%d/%m/%Y})"
        return str(self.agency)


class ProcedureGroup(models.Model):
    """Liên thông: procedures submitted together in one application."""

    code = models.SlugField("mã nhóm", max_length=60, unique=True)
    name = models.CharField("tên nhóm", max_length=300)
    members = models.ManyToManyField(
        Procedure, through="ProcedureGroupMember", related_name="groups", verbose_name="thủ tục"
    )

    class Meta:
        verbose_name = "nhóm thủ tục liên thông"
        verbose_name_plural = "nhóm thủ tục liên thông"

    def __str__(self):
        return self.name


class OnFailure(models.TextChoices):
    """What the other members of an interconnected application do when this member fails or is
    refused (dossiers.interconnect). Members that need this one's result (`after`) can never go on
    without it: they wait while it may still succeed and are closed with the reason once it cannot."""

    WAIT = "wait", "Chờ: các thủ tục khác chưa gửi phải chờ thủ tục này"
    CONTINUE = "continue", "Tiếp tục: các thủ tục không phụ thuộc vẫn giải quyết"
    NOTIFY = "notify", "Tiếp tục và báo công dân, cán bộ tiếp nhận"


class ProcedureGroupMember(models.Model):
    group = models.ForeignKey(ProcedureGroup, on_delete=models.CASCADE)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT)
    order = models.PositiveSmallIntegerField(default=1)
    # The rules of the interconnected application, as data (dossiers.interconnect reads them).
    connector = models.CharField(
        "hệ thống giải quyết",
        max_length=40,
        blank=True,
        help_text="Để trống: giải quyết tại hệ thống này; hoặc tên kết nối trên trục (residence, social_insurance).",
    )
    remote_procedure = models.CharField(
        "thủ tục bên hệ thống kia", max_length=80, blank=True, help_text="Ví dụ residence.register."
    )
    after = models.JSONField(
        "chờ kết quả của",
        default=list,
        blank=True,
        help_text='Mã các thủ tục trong nhóm phải có kết quả trước, ví dụ ["1.001193"].',
    )
    on_failure = models.CharField(
        "khi thủ tục này không thành", max_length=10, choices=OnFailure.choices, default=OnFailure.NOTIFY
    )

    class Meta:
        ordering = ["group", "order"]
        verbose_name = "thủ tục trong nhóm liên thông"
        verbose_name_plural = "thủ tục trong nhóm liên thông"

    def __str__(self):
        return f"{self.order}. {self.procedure}"


class ProcedureForm(models.Model):
    """Tờ khai điện tử: one version of a procedure's declaration form, as data —
    a JSON Schema (draft 2020-12) for the values and a layout (sections, field
    order, labels, help, widths, prefill sources). Never edited once saved: a
    change is a new version, and a dossier keeps the version it was filled with."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="forms", verbose_name="thủ tục hành chính"
    )
    version = models.PositiveIntegerField("phiên bản")
    title = models.CharField("tên tờ khai", max_length=300)
    schema = models.JSONField("lược đồ dữ liệu (JSON Schema 2020-12)")
    layout = models.JSONField("bố cục (mục, thứ tự, nhãn, hướng dẫn)")
    note = models.CharField("nội dung thay đổi", max_length=300, blank=True)
    created_at = models.DateTimeField("ban hành lúc", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người ban hành",
    )

    class Meta:
        ordering = ["procedure", "-version"]
        constraints = [models.UniqueConstraint(fields=["procedure", "version"], name="procedure_form_version_unique")]
        verbose_name = "tờ khai điện tử"
        verbose_name_plural = "tờ khai điện tử"

    def __str__(self):
        return f"{self.title} (phiên bản {self.version})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            from chinhquyenso.core.errors import DomainError

            raise DomainError("Phiên bản tờ khai đã ban hành không được sửa; hãy lưu thành phiên bản mới.", "version")
        super().save(*args, **kwargs)


__all__ = [
    "Field",
    "Level",
    "Procedure",
    "ProcedureAgency",
    "ProcedureForm",
    "ProcedureGroup",
    "ProcessStep",
    "RequiredComponent",
    "ServiceLevel",
]

"""Report templates (data, editable by the province) and the reports built
from them: drafts an officer edits, then issued reports — frozen, numbered,
kept with the data snapshot and the files they were issued with."""

from django.conf import settings
from django.db import models

from chinhquyenso.core.models import StoredFile
from chinhquyenso.core.unique import NamedUniqueMessage
from chinhquyenso.org.models import Agency


def province_name() -> str:
    """A new template's place name: the installation's province (CQS_PROVINCE_NAME)."""
    return settings.CQS["PROVINCE_NAME"]


class ReportTemplate(NamedUniqueMessage, models.Model):
    """The structure of one recurring report. Texts are Django template
    strings over the period's figures: "tỷ lệ hồ sơ trực tuyến đạt
    {{ v.online_rate_all }}" prints "41,5%"; narrative blocks are written by
    the officer before issue. See docs/reports.md for every block type."""

    code = models.SlugField("mã mẫu", max_length=60, unique=True)
    name = models.CharField("tên mẫu báo cáo", max_length=300)
    period_kind = models.CharField("kỳ báo cáo", max_length=12)
    parent_agency = models.CharField("cơ quan chủ quản", max_length=200, help_text="Ví dụ: UBND TỈNH AN GIANG")
    issuing_agency = models.CharField(
        "cơ quan ban hành", max_length=200, help_text="Ví dụ: SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    )
    issuer = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="cơ quan soạn, ban hành",
        help_text="Cán bộ của cơ quan này soạn và ban hành; để trống: chỉ quản trị tỉnh.",
    )
    symbol = models.CharField("ký hiệu", max_length=40, help_text="Ví dụ: BC-STTTT")
    place = models.CharField("địa danh", max_length=60, default=province_name)
    summary = models.TextField("trích yếu", help_text="Mẫu văn bản, ví dụ: Kết quả chuyển đổi số {{ period.label }}")
    body = models.JSONField("nội dung", default=list)
    appendices = models.JSONField("phụ lục", default=list, blank=True)
    recipients = models.JSONField("nơi nhận", default=list, blank=True)
    signer = models.JSONField(
        "người ký",
        default=dict,
        blank=True,
        help_text='{"authority": "KT. GIÁM ĐỐC", "position": "PHÓ GIÁM ĐỐC", "name": "…"}',
    )
    is_active = models.BooleanField("đang dùng", default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "mẫu báo cáo"
        verbose_name_plural = "mẫu báo cáo"

    def __str__(self):
        return self.name


class Report(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Dự thảo"
        ISSUED = "issued", "Đã ban hành"

    template = models.ForeignKey(ReportTemplate, on_delete=models.PROTECT, related_name="reports")
    period_code = models.CharField("kỳ", max_length=30)
    period_start = models.DateField()
    period_end = models.DateField()
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Để trống: số liệu toàn tỉnh.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    narratives = models.JSONField("nội dung do cán bộ soạn", default=dict, blank=True)
    number = models.PositiveIntegerField("số", null=True, blank=True)
    issued_on = models.DateField("ngày ban hành", null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    snapshot = models.JSONField("số liệu đã dùng", default=dict, blank=True)
    docx = models.ForeignKey(StoredFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pdf = models.ForeignKey(StoredFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "báo cáo"
        verbose_name_plural = "báo cáo"
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number", "issued_on"],
                name="report_number_unique",
                condition=models.Q(status="issued"),
            )
        ]

    def __str__(self):
        return f"{self.template.name} — {self.period_code}"

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED

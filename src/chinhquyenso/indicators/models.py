"""Indicators: definitions and formulas (data, versioned), targets, reported
values, the pre-aggregated dossier facts they are computed from, and the
assessment rules (QĐ 766 index, e-government completion criteria)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from chinhquyenso.core.text import format_number
from chinhquyenso.core.unique import NamedUniqueMessage
from chinhquyenso.org.models import Agency
from chinhquyenso.procedures.models import Procedure, ServiceLevel


class PeriodKind(models.TextChoices):
    MONTH = "month", "Tháng"
    QUARTER = "quarter", "Quý"
    HALF_YEAR = "half_year", "6 tháng"
    NINE_MONTHS = "nine_months", "9 tháng"
    YEAR = "year", "Năm"
    RANGE = "range", "Khoảng thời gian bất kỳ"


class Indicator(NamedUniqueMessage, models.Model):
    class Source(models.TextChoices):
        COMPUTED = "computed", "Tính từ dữ liệu hệ thống"
        REPORTED = "reported", "Cơ quan báo cáo (LRIS)"
        ASSESSMENT = "assessment", "Kết quả đánh giá theo tiêu chí"

    class Aggregation(models.TextChoices):
        SUM = "sum", "Cộng các kỳ và các cơ quan"
        LATEST = "latest", "Số liệu mới nhất trong kỳ, cộng các cơ quan"

    class ValueType(models.TextChoices):
        INTEGER = "integer", "Số nguyên"
        DECIMAL = "decimal", "Số thập phân"
        RATIO = "ratio", "Tỷ lệ (tử số / mẫu số)"
        BOOLEAN = "boolean", "Có / không"

    code = models.SlugField("mã chỉ tiêu", max_length=60, unique=True)
    name = models.CharField("tên chỉ tiêu", max_length=300)
    group = models.CharField("nhóm", max_length=120, blank=True)
    unit = models.CharField("đơn vị tính", max_length=40, help_text="Ví dụ: %, hồ sơ, ngày, cơ quan.")
    count_unit = models.CharField(
        "đơn vị của mẫu số",
        max_length=40,
        blank=True,
        help_text="Đơn vị của tử số và mẫu số (tỷ lệ) hoặc của mẫu số (bình quân), ví dụ: hồ sơ, cơ quan, dịch vụ.",
    )
    source = models.CharField("nguồn số liệu", max_length=10, choices=Source.choices, default=Source.COMPUTED)
    value_type = models.CharField("kiểu giá trị", max_length=10, choices=ValueType.choices, default=ValueType.RATIO)
    aggregation = models.CharField("cách tổng hợp", max_length=10, choices=Aggregation.choices, default=Aggregation.SUM)
    decimals = models.PositiveSmallIntegerField("số chữ số thập phân", default=1)
    higher_is_better = models.BooleanField("giá trị càng cao càng tốt", default=True)
    period_kinds = models.JSONField(
        "kỳ báo cáo", default=list, blank=True, help_text='Ví dụ ["month", "quarter", "year"]; để trống: mọi kỳ.'
    )
    agency_levels = models.JSONField(
        "cấp áp dụng",
        default=list,
        blank=True,
        help_text='Ví dụ ["province", "district", "commune"]; để trống: mọi cấp.',
    )
    numerator_label = models.CharField("tên tử số", max_length=200, blank=True)
    denominator_label = models.CharField("tên mẫu số", max_length=200, blank=True)
    minimum = models.DecimalField("giá trị nhỏ nhất hợp lệ", max_digits=20, decimal_places=4, null=True, blank=True)
    maximum = models.DecimalField("giá trị lớn nhất hợp lệ", max_digits=20, decimal_places=4, null=True, blank=True)
    part_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="parts",
        verbose_name="là một phần của",
        help_text="Kiểm tra khi báo cáo: giá trị không được lớn hơn chỉ tiêu tổng.",
    )
    description = models.TextField("định nghĩa, ghi chú", blank=True)
    order = models.PositiveIntegerField("thứ tự", default=100)
    is_active = models.BooleanField("đang dùng", default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "chỉ tiêu"
        verbose_name_plural = "chỉ tiêu, chỉ số"

    def __str__(self):
        return f"{self.code} — {self.name}"

    @property
    def is_ratio(self) -> bool:
        return self.value_type == self.ValueType.RATIO


class FormulaVersion(models.Model):
    """How a computed indicator is calculated from the platform's measures,
    from a date on. Editing a formula adds a version; a report for a past
    period uses (and states) the version in force at the period's end."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="formulas", verbose_name="chỉ tiêu")
    version = models.PositiveSmallIntegerField("phiên bản")
    valid_from = models.DateField("áp dụng từ ngày")
    numerator = models.CharField(
        "tử số", max_length=500, help_text="Biểu thức trên các đại lượng, ví dụ received_online + received_post."
    )
    denominator = models.CharField("mẫu số", max_length=500, blank=True, help_text="Để trống nếu chỉ tiêu là số đếm.")
    scale = models.PositiveIntegerField(
        "hệ số nhân", default=100, help_text="100 cho tỷ lệ phần trăm; 1 cho số đếm, bình quân."
    )
    missing = models.CharField(
        "hồ sơ thiếu dữ liệu",
        max_length=500,
        blank=True,
        help_text="Đại lượng đếm hồ sơ thiếu dữ liệu đầu vào của công thức (ví dụ payment_method_unknown); "
        "tử số và mẫu số chỉ tính trên các hồ sơ có đủ dữ liệu. Để trống nếu không có.",
    )
    note = models.TextField("căn cứ, lý do thay đổi", blank=True)
    created_at = models.DateTimeField("thời điểm thêm", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="người thêm",
    )

    class Meta:
        ordering = ["indicator", "version"]
        verbose_name = "công thức"
        verbose_name_plural = "công thức (có phiên bản)"
        constraints = [models.UniqueConstraint(fields=["indicator", "version"], name="formula_version_unique")]

    def __str__(self):
        return f"{self.indicator.code} v{self.version} (từ {self.valid_from:%d/%m/%Y})"


class Target(models.Model):
    """A plan value for a year (e.g. the province DX plan: ≥ 50% online)."""

    class Comparison(models.TextChoices):
        AT_LEAST = "gte", "Tối thiểu (≥)"
        AT_MOST = "lte", "Tối đa (≤)"

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets", verbose_name="chỉ tiêu")
    year = models.PositiveSmallIntegerField("năm")
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="cơ quan",
        help_text="Để trống: chỉ tiêu của toàn tỉnh.",
    )
    comparison = models.CharField("so sánh", max_length=3, choices=Comparison.choices, default=Comparison.AT_LEAST)
    value = models.DecimalField("giá trị kế hoạch", max_digits=20, decimal_places=4)
    source = models.TextField("căn cứ giao chỉ tiêu", blank=True)
    order = models.PositiveIntegerField("thứ tự trong phụ lục", default=100)

    class Meta:
        ordering = ["year", "order", "indicator__code"]
        verbose_name = "chỉ tiêu kế hoạch"
        verbose_name_plural = "chỉ tiêu kế hoạch năm"
        constraints = [
            models.UniqueConstraint(fields=["indicator", "year", "agency"], name="target_unique", nulls_distinct=False)
        ]

    def __str__(self):
        return f"{self.indicator.code} năm {self.year}: {self.get_comparison_display()} {format_number(self.value, self.indicator.decimals)}"


class ReportedValue(models.Model):
    """A value an agency reported for a period (LRIS), once approved by the
    province. Ratios keep their numerator and denominator."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="reported_values", verbose_name="chỉ tiêu"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="cơ quan")
    period_start = models.DateField("từ ngày")
    period_end = models.DateField("đến ngày")
    value = models.DecimalField("giá trị", max_digits=20, decimal_places=4, null=True)
    numerator = models.DecimalField("tử số", max_digits=20, decimal_places=4, null=True)
    denominator = models.DecimalField("mẫu số", max_digits=20, decimal_places=4, null=True)
    source = models.CharField("nguồn", max_length=120, blank=True, help_text="Ví dụ: báo cáo LRIS số …")
    approved_at = models.DateTimeField("thời điểm duyệt")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="người duyệt",
    )

    class Meta:
        verbose_name = "số liệu báo cáo"
        verbose_name_plural = "số liệu do cơ quan báo cáo"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "agency", "period_start", "period_end"], name="reported_value_unique"
            )
        ]
        indexes = [models.Index(fields=["indicator", "period_end"])]

    def __str__(self):
        return f"{self.indicator.code} — {self.agency} — {self.period_start:%d/%m/%Y}–{self.period_end:%d/%m/%Y}"


class FactColumns(models.Model):
    """Dossier counts: what was received (accepted) in the bucket and what was
    finished (result ready) in it."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    received = models.PositiveIntegerField(default=0)
    received_online = models.PositiveIntegerField(default=0)
    received_counter = models.PositiveIntegerField(default=0)
    received_post = models.PositiveIntegerField(default=0)
    received_digitized = models.PositiveIntegerField(default=0)
    received_reusing = models.PositiveIntegerField(default=0)
    with_fee = models.PositiveIntegerField(default=0)
    paid_online = models.PositiveIntegerField(default=0)
    # owing a fee, paid in a way no one recorded (history imported without the method)
    payment_method_unknown = models.PositiveIntegerField(default=0)
    finished = models.PositiveIntegerField(default=0)
    finished_early = models.PositiveIntegerField(default=0)
    finished_on_time = models.PositiveIntegerField(default=0)
    finished_late = models.PositiveIntegerField(default=0)
    finished_electronic = models.PositiveIntegerField(default=0)
    processing_seconds = models.BigIntegerField(default=0)  # acceptance → result, summed

    class Meta:
        abstract = True


class DossierFact(FactColumns):
    """Per receiving agency, local day and service level: every indicator
    for any date range is a sum over these rows."""

    day = models.DateField()
    service_level = models.CharField(max_length=20)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "day", "service_level"], name="dossier_fact_unique")]
        verbose_name = "số liệu hồ sơ theo ngày"
        verbose_name_plural = "số liệu hồ sơ tổng hợp theo ngày"

    def __str__(self):
        return f"Số liệu hồ sơ ngày {self.day:%d/%m/%Y}, cơ quan số {self.agency_id}, {_level(self.service_level)}"


class DossierMonthFact(FactColumns):
    """The same as DossierFact per month: a year is 12 rows per agency and
    service level instead of 365, so whole months are summed from here."""

    month = models.DateField()  # first day of the month
    service_level = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "month", "service_level"], name="dossier_month_fact_unique")
        ]
        verbose_name = "số liệu hồ sơ theo tháng"
        verbose_name_plural = "số liệu hồ sơ tổng hợp theo tháng"

    def __str__(self):
        return f"Số liệu hồ sơ tháng {self.month.month}/{self.month.year}, cơ quan số {self.agency_id}, {_level(self.service_level)}"


def _level(code: str) -> str:
    return dict(ServiceLevel.choices).get(code, code).lower()


class ProcedureMonthFact(FactColumns):
    """Per receiving agency, procedure and month: drill-down by procedure and
    the count of services used online."""

    month = models.DateField()  # first day of the month
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "month", "procedure"], name="procedure_fact_unique")]
        verbose_name = "số liệu hồ sơ theo thủ tục, tháng"
        verbose_name_plural = "số liệu hồ sơ tổng hợp theo thủ tục, tháng"

    def __str__(self):
        return f"Số liệu hồ sơ tháng {self.month.month}/{self.month.year}, cơ quan số {self.agency_id}, thủ tục số {self.procedure_id}"


class DeadlineChange(models.Model):
    """A dossier's deadline moved (Mẫu 04 reschedule, restart after a
    supplement), derived from its timeline with the facts: what was open
    at a past period's end is judged against the deadline in force then,
    `due_before` of the first change after that end."""

    dossier_id = models.BigIntegerField()
    at = models.DateTimeField()
    due_before = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["at", "dossier_id"], name="deadline_change_at_idx"),
            models.Index(fields=["dossier_id"], name="deadline_change_dossier_idx"),
        ]
        verbose_name = "lần đổi hạn trả kết quả"
        verbose_name_plural = "lịch sử đổi hạn trả kết quả"

    def __str__(self):
        return f"Hồ sơ số {self.dossier_id}: đổi hạn ngày {timezone.localtime(self.at):%d/%m/%Y}"


class StaleDossier(models.Model):
    """A dossier changed since its facts were last aggregated. One row per
    change (not per dossier), so a change made while a refresh runs is never
    swallowed by that refresh."""

    dossier_id = models.BigIntegerField()

    class Meta:
        verbose_name = "hồ sơ chờ tổng hợp lại số liệu"
        verbose_name_plural = "hồ sơ chờ tổng hợp lại số liệu"

    def __str__(self):
        return f"Hồ sơ số {self.dossier_id} chờ tổng hợp lại"


class Index766Group(models.Model):
    code = models.SlugField("mã nhóm", max_length=40, unique=True)
    name = models.CharField("nhóm chỉ số", max_length=200)
    max_points = models.DecimalField("điểm tối đa", max_digits=6, decimal_places=2)
    order = models.PositiveSmallIntegerField("thứ tự", default=1)

    class Meta:
        ordering = ["order"]
        verbose_name = "nhóm chỉ số 766"
        verbose_name_plural = "Bộ chỉ số 766 — nhóm"

    def __str__(self):
        return self.name


class Index766Rule(models.Model):
    """One scored sub-indicator: which indicator feeds it and how its value
    turns into points."""

    class Method(models.TextChoices):
        PROPORTIONAL = "proportional", "Tỷ lệ thuận, đủ điểm khi đạt ngưỡng"
        THRESHOLD = "threshold", "Đủ điểm khi đạt ngưỡng, không đạt 0 điểm"
        STEPS = "steps", "Theo bậc"

    group = models.ForeignKey(Index766Group, on_delete=models.CASCADE, related_name="rules", verbose_name="nhóm")
    code = models.SlugField("mã chỉ số", max_length=40, unique=True)
    name = models.CharField("chỉ số thành phần", max_length=300)
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+", verbose_name="chỉ tiêu")
    max_points = models.DecimalField("điểm tối đa", max_digits=6, decimal_places=2)
    method = models.CharField("cách tính điểm", max_length=15, choices=Method.choices, default=Method.PROPORTIONAL)
    threshold = models.DecimalField("ngưỡng đủ điểm", max_digits=10, decimal_places=4, null=True, blank=True)
    steps = models.JSONField(
        "các bậc",
        default=list,
        blank=True,
        help_text='[[giá trị tối thiểu, điểm], …] từ cao xuống thấp; dùng khi cách tính là "theo bậc".',
    )
    source = models.TextField("nguồn quy tắc", blank=True)  # a citation with what is unverified: no natural bound
    order = models.PositiveSmallIntegerField("thứ tự", default=1)

    class Meta:
        ordering = ["group__order", "order"]
        verbose_name = "chỉ số thành phần 766"
        verbose_name_plural = "Bộ chỉ số 766 — chỉ số thành phần"

    def __str__(self):
        return self.name


class EGovCriterion(models.Model):
    """A criterion an agency must meet to count as having completed
    e-government (seed 002), with its threshold and data source."""

    code = models.SlugField("mã tiêu chí", max_length=40, unique=True)
    name = models.CharField("tiêu chí", max_length=300)
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+", verbose_name="chỉ tiêu")
    # The figure the platform computes for the same thing (documents exchanged electronically, counted
    # from the documents system), used for an agency wherever it has data in the period; an agency
    # not yet on the system keeps its reported figure instead of a false 0%.
    computed_indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name="chỉ tiêu tính từ hệ thống",
        help_text="Cơ quan có số liệu của chỉ tiêu này trong kỳ được đánh giá theo số liệu này; "
        "cơ quan chưa có thì theo chỉ tiêu ở trên.",
    )
    comparison = models.CharField(
        "so sánh", max_length=3, choices=Target.Comparison.choices, default=Target.Comparison.AT_LEAST
    )
    threshold = models.DecimalField("ngưỡng", max_digits=10, decimal_places=4)
    agency_kinds = models.JSONField("áp dụng cho loại cơ quan", default=list, blank=True)
    source = models.TextField("căn cứ", blank=True)
    order = models.PositiveSmallIntegerField("thứ tự", default=1)
    is_active = models.BooleanField("đang dùng", default=True)

    class Meta:
        ordering = ["order"]
        verbose_name = "tiêu chí chính quyền điện tử"
        verbose_name_plural = "tiêu chí hoàn thiện chính quyền điện tử"

    def __str__(self):
        return self.name

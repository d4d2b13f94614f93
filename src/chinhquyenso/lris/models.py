"""LRIS: the figures agencies report because the platform cannot compute them
(BTS stations, IT staff, IPv6 conversion …). The province defines forms and
assigns them; agencies fill them in; the province approves, and only then do
the values reach indicators.ReportedValue."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from chinhquyenso.core.unique import NamedUniqueMessage
from chinhquyenso.indicators.models import Indicator, PeriodKind
from chinhquyenso.org.models import Agency


class ReportForm(NamedUniqueMessage, models.Model):
    code = models.SlugField("mã biểu mẫu", max_length=60, unique=True)
    name = models.CharField("tên biểu mẫu", max_length=300)
    description = models.TextField("mô tả, hướng dẫn chung", blank=True)
    period_kind = models.CharField("kỳ báo cáo", max_length=12, choices=PeriodKind.choices, default=PeriodKind.QUARTER)
    agency_kinds = models.JSONField(
        "loại cơ quan thường được giao",
        default=list,
        blank=True,
        help_text='Chọn sẵn khi giao báo cáo, ví dụ ["department", "commune_committee"]; '
        "loại không còn cơ quan nào hoạt động (như UBND cấp huyện sau ngày 01/7/2025) được bỏ qua.",
    )
    is_active = models.BooleanField("đang dùng", default=True)
    indicators = models.ManyToManyField(Indicator, through="FormItem", related_name="+", verbose_name="chỉ tiêu")

    class Meta:
        ordering = ["name"]
        verbose_name = "biểu mẫu báo cáo"
        verbose_name_plural = "biểu mẫu báo cáo số liệu (LRIS)"

    def __str__(self):
        return f"{self.code} — {self.name}"


class FormItem(models.Model):
    """One line of a form: an indicator, whether it must be filled in, and
    bounds that are stricter (or looser) for this form than the indicator's."""

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="items", verbose_name="biểu mẫu")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+", verbose_name="chỉ tiêu")
    order = models.PositiveIntegerField("thứ tự", default=1)
    required = models.BooleanField("bắt buộc", default=True)
    minimum = models.DecimalField(
        "tối thiểu (riêng biểu mẫu này)", max_digits=20, decimal_places=4, null=True, blank=True
    )
    maximum = models.DecimalField("tối đa (riêng biểu mẫu này)", max_digits=20, decimal_places=4, null=True, blank=True)
    instructions = models.CharField("hướng dẫn nhập", max_length=500, blank=True)

    class Meta:
        ordering = ["form", "order", "id"]
        verbose_name = "chỉ tiêu trong biểu mẫu"
        verbose_name_plural = "chỉ tiêu trong biểu mẫu"
        constraints = [models.UniqueConstraint(fields=["form", "indicator"], name="lris_form_item_unique")]

    def __str__(self):
        return f"{self.form.code}: {self.indicator.code}"


class FormAssignment(models.Model):
    """A form an agency must report for one period, by a deadline."""

    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="assignments", verbose_name="biểu mẫu")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="cơ quan")
    period_start = models.DateField("từ ngày")
    period_end = models.DateField("đến ngày")
    deadline = models.DateField("hạn nộp")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="người giao",
    )
    created_at = models.DateTimeField("thời điểm giao", auto_now_add=True)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = "báo cáo được giao"
        verbose_name_plural = "báo cáo được giao"
        constraints = [
            models.UniqueConstraint(
                fields=["form", "agency", "period_start", "period_end"], name="lris_assignment_unique"
            )
        ]
        indexes = [models.Index(fields=["form", "period_start", "period_end"]), models.Index(fields=["deadline"])]

    def __str__(self):
        return f"{self.form.code} — {self.agency} — {self.period_start:%d/%m/%Y}–{self.period_end:%d/%m/%Y}"

    @property
    def period(self):
        from chinhquyenso.indicators.periods import period_of_dates

        return period_of_dates(self.period_start, self.period_end)


class Status(models.TextChoices):
    DRAFT = "draft", "Đang nhập (chưa gửi)"
    SUBMITTED = "submitted", "Đã gửi, chờ duyệt"
    RETURNED = "returned", "Bị trả lại, cần sửa"
    RESUBMITTED = "resubmitted", "Đã gửi lại, chờ duyệt"
    APPROVED = "approved", "Đã duyệt"


EDITABLE = (Status.DRAFT, Status.RETURNED)
AWAITING_REVIEW = (Status.SUBMITTED, Status.RESUBMITTED)
REPORTED = (Status.SUBMITTED, Status.RESUBMITTED, Status.APPROVED)


class Submission(models.Model):
    """The agency's answer to one assignment, created when its first value is saved."""

    assignment = models.OneToOneField(FormAssignment, on_delete=models.CASCADE, related_name="submission")
    status = models.CharField("tình trạng", max_length=12, choices=Status.choices, default=Status.DRAFT)
    # The first sending decides timeliness: a return by the province does not make an on-time report late.
    first_submitted_at = models.DateTimeField("gửi lần đầu", null=True, blank=True)
    submitted_at = models.DateTimeField("gửi lần gần nhất", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("duyệt/trả lại lúc", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_reason = models.TextField("lý do trả lại", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "bài nộp báo cáo"
        verbose_name_plural = "bài nộp báo cáo"
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
        return f"{self.assignment} ({self.get_status_display().lower()})"


class SubmittedValue(models.Model):
    """A value as the agency entered it (raw text kept) and as understood."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="values")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    raw = models.CharField("như đã nhập", max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "indicator"], name="lris_value_unique")]
        verbose_name = "số liệu đã nhập"
        verbose_name_plural = "số liệu đã nhập"

    def __str__(self):
        return f"{self.indicator.code}: {self.raw or 'chưa nhập'}"


class SubmissionEvent(models.Model):
    """A step of the workflow: sent, returned, sent again, approved, reopened."""

    class Action(models.TextChoices):
        SUBMIT = "submit", "Gửi báo cáo"
        RESUBMIT = "resubmit", "Gửi lại báo cáo"
        RETURN = "return", "Trả lại để sửa"
        APPROVE = "approve", "Duyệt"
        REOPEN = "reopen", "Mở lại báo cáo đã duyệt"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=10, choices=Action.choices)
    from_status = models.CharField(max_length=12, choices=Status.choices)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "bước xử lý báo cáo"
        verbose_name_plural = "quá trình xử lý báo cáo"

    def __str__(self):
        return f"{self.get_action_display()} ({timezone.localtime(self.at):%H:%M %d/%m/%Y})"


class ValueChange(models.Model):
    """Every change to a submitted value, and the values as they stood when
    the province returned or approved them: nothing is overwritten unseen."""

    class Why(models.TextChoices):
        ENTERED = "entered", "Nhập trên trang"
        UPLOADED = "uploaded", "Tải lên tệp Excel"
        API = "api", "Gửi qua API"
        RETURNED = "returned", "Trả lại"
        APPROVED = "approved", "Duyệt"
        REOPENED = "reopened", "Mở lại"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="changes")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    why = models.CharField(max_length=10, choices=Why.choices)
    old_raw = models.CharField(max_length=200, blank=True)
    new_raw = models.CharField(max_length=200, blank=True)
    old_value = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    new_value = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    old_numerator = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    new_numerator = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    old_denominator = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    new_denominator = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "lần sửa số liệu báo cáo"
        verbose_name_plural = "lịch sử sửa số liệu báo cáo"

    def __str__(self):
        old, new = self.old_raw or "trống", self.new_raw or "trống"
        return f"{self.indicator.code}: {old} → {new} ({self.get_why_display().lower()})"


class Reminder(models.Model):
    """A reminder sent for an assignment; at most one per kind, so the job can run as often as wanted."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "Sắp đến hạn"
        OVERDUE = "overdue", "Quá hạn"

    assignment = models.ForeignKey(
        FormAssignment, on_delete=models.CASCADE, related_name="reminders", verbose_name="báo cáo được giao"
    )
    kind = models.CharField("loại nhắc", max_length=10, choices=Kind.choices)
    sent_at = models.DateTimeField("thời điểm nhắc")
    recipients = models.PositiveIntegerField("số người nhận", default=0)
    emails = models.PositiveIntegerField("số thư điện tử", default=0)

    class Meta:
        verbose_name = "lần nhắc nộp báo cáo"
        verbose_name_plural = "nhắc nộp báo cáo"
        constraints = [models.UniqueConstraint(fields=["assignment", "kind"], name="lris_reminder_once")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.assignment}"

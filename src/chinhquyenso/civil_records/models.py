"""Digitized civil-status register entries (hộ tịch) and their import batches.

A record keeps three things side by side: what the register says, verbatim
(by the column header of the file it came from); the normalized value of each
field where one can be determined; and the open flags — what a registrar
still has to confirm or correct. Corrections never touch the verbatim text;
each one is a FieldReview row.
"""

from django.conf import settings
from django.db import models

from chinhquyenso.civil_records.fields import KINDS
from chinhquyenso.org.models import Agency


class RecordType(models.TextChoices):
    BIRTH = "birth", "Khai sinh"
    DEATH = "death", "Khai tử"
    MARRIAGE = "marriage", "Kết hôn"


class ReviewState(models.TextChoices):
    CLEAN = "clean", "Không có điểm cần rà soát"
    FLAGGED = "flagged", "Cần rà soát"
    REVIEWED = "reviewed", "Đã rà soát"


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Đang chờ"
        RUNNING = "running", "Đang nhập"
        DONE = "done", "Hoàn tất"
        FAILED = "failed", "Không đọc được tệp"

    record_type = models.CharField("loại sổ", max_length=10, choices=RecordType.choices)
    commune = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="nơi đăng ký")
    file = models.FileField(upload_to="civil_imports/", blank=True)
    file_name = models.CharField("tên tệp", max_length=255)
    file_format = models.CharField(max_length=10, blank=True)
    encoding = models.CharField("bảng mã", max_length=30, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    message = models.TextField(blank=True)
    # The last row committed: a batch interrupted (worker stopped) resumes after it.
    checkpoint_row = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    progress_permille = models.PositiveSmallIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    skipped_existing = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "lượt nhập sổ hộ tịch"
        verbose_name_plural = "lượt nhập sổ hộ tịch"
        indexes = [models.Index(fields=["commune", "-created_at"])]

    def __str__(self):
        return f"{self.file_name} ({self.get_record_type_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def counts(self) -> dict:
        return {
            "rows": self.rows_read,
            "imported": self.imported,
            "flagged": self.flagged,
            "rejected": self.rejected,
            "skipped_existing": self.skipped_existing,
        }


class ImportProblem(models.Model):
    """One problem found in one cell (or row) of an imported file."""

    class Severity(models.TextChoices):
        ERROR = "error", "Bị từ chối"
        FLAG = "flag", "Đã nhập, cần rà soát"
        NOTICE = "notice", "Lưu ý"

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField("dòng")  # 1 = the header row
    column = models.CharField("cột", max_length=255, blank=True)
    # The other columns the message names (a row rejected for having neither a name nor a number).
    other_columns = models.JSONField("các cột khác", default=list, blank=True)
    value = models.TextField("giá trị trong tệp", blank=True)
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.TextField("thông báo")

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["batch", "row"]), models.Index(fields=["batch", "severity", "row"])]
        verbose_name = "lỗi, điểm cần rà soát khi nhập"
        verbose_name_plural = "lỗi, điểm cần rà soát khi nhập"

    def __str__(self):
        where = f"dòng {self.row}" + (f", cột «{self.column}»" if self.column else "")
        return f"{self.get_severity_display()} ({where}): {self.message}"

    @property
    def columns(self) -> list[str]:
        """Every column the problem names, its own first."""
        return [c for c in (self.column, *(self.other_columns or ())) if c]


class CivilRecord(models.Model):
    record_type = models.CharField("loại", max_length=10, choices=RecordType.choices)
    # The commune that registered the entry, as it was then (a merged commune keeps its own records).
    commune = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="nơi đăng ký")
    book = models.CharField("quyển số", max_length=200, blank=True)
    number = models.CharField("số đăng ký", max_length=200, blank=True)
    year = models.PositiveSmallIntegerField("năm đăng ký", null=True, blank=True)
    # commune + type + book + number + year, or the file's own key, or (neither) the row's content.
    identity_key = models.CharField(max_length=220)
    registered_on = models.DateField("ngày đăng ký", null=True, blank=True)
    event_from = models.DateField(null=True, blank=True)
    event_to = models.DateField(null=True, blank=True)
    subject_name = models.CharField("họ và tên", max_length=200, blank=True)
    spouse_name = models.CharField("họ và tên vợ", max_length=200, blank=True)
    names_folded = models.CharField(max_length=401, blank=True)
    sex = models.CharField("giới tính", max_length=5, blank=True)
    verbatim = models.JSONField("nguyên văn", default=dict)
    data = models.JSONField("giá trị chuẩn hóa", default=dict)
    flags = models.JSONField("điểm cần rà soát", default=list)
    review_state = models.CharField(max_length=10, choices=ReviewState.choices, default=ReviewState.CLEAN)
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="records")
    source_row = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "bản ghi hộ tịch"
        verbose_name_plural = "bản ghi hộ tịch"
        constraints = [
            models.UniqueConstraint(fields=["commune", "record_type", "identity_key"], name="civil_record_identity")
        ]
        indexes = [
            models.Index(fields=["commune", "review_state", "record_type", "book", "year"]),
            models.Index(fields=["commune", "record_type", "year", "book"]),
            models.Index(fields=["event_from"]),
        ]

    def __str__(self):
        return f"{self.get_record_type_display()} số {self.number or '—'}/{self.year or '—'} — {self.subject_name}"


class FieldReview(models.Model):
    """A registrar confirmed or corrected one field; the verbatim value is unchanged."""

    class Action(models.TextChoices):
        CONFIRMED = "confirmed", "Xác nhận đúng như sổ"
        CORRECTED = "corrected", "Sửa giá trị chuẩn hóa"

    record = models.ForeignKey(CivilRecord, on_delete=models.CASCADE, related_name="reviews")
    field = models.CharField(max_length=40)
    action = models.CharField(max_length=10, choices=Action.choices)
    flag_code = models.CharField(max_length=40, blank=True)
    flag_reason = models.TextField(blank=True)
    verbatim = models.TextField("nguyên văn", blank=True)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    note = models.TextField("ghi chú", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "lần rà soát trường thông tin"
        verbose_name_plural = "lịch sử rà soát trường thông tin"

    def __str__(self):
        kind = KINDS.get(self.record.record_type)
        field = kind.by_key.get(self.field) if kind else None
        return f"{self.get_action_display()}: «{field.label if field else self.field}» — {self.record}"


class RecordScan(models.Model):
    """A scanned page of the register entry (checked by content like every upload)."""

    record = models.ForeignKey(CivilRecord, on_delete=models.CASCADE, related_name="scans")
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+")
    page = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["page", "id"]
        constraints = [models.UniqueConstraint(fields=["record", "file"], name="civil_scan_once")]
        verbose_name = "trang sổ đã quét"
        verbose_name_plural = "trang sổ đã quét"

    def __str__(self):
        return f"Trang {self.page} của bản ghi số {self.record_id}"

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.text import capfirst

from chinhquyenso.core.registry import AUDIT_ACTIONS


class CalendarDay(models.Model):
    """A province exception to the national calendar (làm bù, nghỉ thêm)."""

    class Kind(models.TextChoices):
        WORKING = "working", "Ngày làm việc bù"
        DAY_OFF = "day_off", "Ngày nghỉ thêm"

    date = models.DateField("ngày", unique=True)
    kind = models.CharField("loại", max_length=10, choices=Kind.choices)
    note = models.CharField("ghi chú", max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "ngày lịch tỉnh"
        verbose_name_plural = "lịch làm việc của tỉnh"

    def __str__(self):
        return f"{self.date:%d/%m/%Y} — {self.get_kind_display()}"


class AuditRecord(models.Model):
    """Append-only, hash-chained record of one state change.

    `before`/`after` hold status fields and identifiers, never personal data
    (names, ID numbers, addresses): the audit log is read by auditors.
    """

    seq = models.BigIntegerField("số thứ tự", unique=True)
    created_at = models.DateTimeField("thời điểm")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="người thực hiện",
    )
    actor_label = models.CharField("tên người thực hiện", max_length=150, blank=True)
    agency_id = models.BigIntegerField("mã số cơ quan", null=True, blank=True)
    action = models.CharField("thao tác", max_length=80)
    object_type = models.CharField("loại đối tượng", max_length=80)
    object_id = models.CharField("mã số đối tượng", max_length=80)
    before = models.JSONField("trước thay đổi", default=dict, blank=True)
    after = models.JSONField("sau thay đổi", default=dict, blank=True)
    prev_hash = models.CharField("mã băm bản ghi trước", max_length=64)
    hash = models.CharField("mã băm", max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = "nhật ký kiểm toán"
        verbose_name_plural = "nhật ký kiểm toán"

    def __str__(self):
        action = AUDIT_ACTIONS.display(self.action)
        return f"Bản ghi số {self.seq}: {action} — {object_kind(self.object_type).lower()} {self.object_id}"


def object_kind(label: str) -> str:
    """A model's label as the audit log stores it ("org.Agency") → its Vietnamese name ("Cơ quan")."""
    try:
        return capfirst(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


class AuditHead(models.Model):
    """Single row holding the chain's tip; locking it serializes appends and
    lets `verify` notice deletion of the newest records."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "đầu chuỗi nhật ký kiểm toán"
        verbose_name_plural = "đầu chuỗi nhật ký kiểm toán"

    def __str__(self):
        return f"Bản ghi mới nhất: số {self.seq}"


class IdempotencyKey(models.Model):
    """Remembers the result of a create request from outside (API, import, exchange)."""

    scope = models.CharField(max_length=200)  # "<operation>:<caller>": keys belong to their caller
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]
        verbose_name = "khóa chống ghi trùng"
        verbose_name_plural = "khóa chống ghi trùng"

    def __str__(self):
        return f"{self.scope} — {self.key}"


class DomainEvent(models.Model):
    """An explicit, stored domain event (e.g. DossierStatusChanged) that other
    apps react to through the worker, instead of hidden model signals."""

    name = models.CharField(max_length=80, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["processed_at", "id"])]
        verbose_name = "sự kiện nghiệp vụ"
        verbose_name_plural = "sự kiện nghiệp vụ"

    def __str__(self):
        return f"{self.name} (số {self.pk})"


class StoredFile(models.Model):
    """An uploaded file, content-checked, addressed by its SHA-256. Identical
    bytes are stored once; who may attach it is in StoredFileGrant."""

    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to="uploads/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "tệp đã tải lên"
        verbose_name_plural = "tệp đã tải lên"

    def __str__(self):
        return self.original_name or f"Tệp {self.sha256[:12]}"


class StoredFileGrant(models.Model):
    """One account uploaded these bytes. The SHA-256 a client names a file by
    is not a secret (anyone holding the same bytes computes it), so naming it
    attaches the file only for those who uploaded it (core.uploads.file_for):
    every uploader of identical bytes gets a grant, not only the first."""

    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "user"], name="stored_file_grant_unique")]
        verbose_name = "quyền dùng tệp đã tải lên"
        verbose_name_plural = "quyền dùng tệp đã tải lên"

    def __str__(self):
        return f"{self.file} — {self.user}"


class ScheduledJob(models.Model):
    """When a periodic job last ran; shared by every worker process so a job
    runs once per interval however many workers there are."""

    name = models.CharField(max_length=80, unique=True)
    interval_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "việc định kỳ"
        verbose_name_plural = "việc định kỳ"

    def __str__(self):
        return self.name


class CodeCounter(models.Model):
    """A running number per key (a prefix and a day or year): dossier codes,
    report codes and every code a new app prints (core.codes)."""

    key = models.CharField(max_length=60, unique=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "bộ đếm số hiệu"
        verbose_name_plural = "bộ đếm số hiệu"

    def __str__(self):
        return f"{self.key}: {self.value}"

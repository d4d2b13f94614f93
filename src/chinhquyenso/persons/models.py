"""The master person index: source records as each system holds them, the persons they are linked
to, the linkage model's versions and runs, the pairs left for review and the officers' decisions.

Linking never changes a source record's own fields and never deletes one: it only sets which
`Person` a record belongs to, and every change of that is kept in `ClusterChange` so that a merge
or a split can be undone."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from chinhquyenso.core.text import fold
from chinhquyenso.org.models import Agency


class Source(models.TextChoices):
    HEALTH = "health", "Hồ sơ sức khỏe điện tử"
    CIVIL = "civil", "Sổ hộ tịch"
    APPLICANT = "applicant", "Người nộp hồ sơ thủ tục hành chính"


class Sex(models.TextChoices):
    MALE = "nam", "Nam"
    FEMALE = "nu", "Nữ"
    UNKNOWN = "", "Không rõ"


# The fields that describe the person on a source record: what linking compares, what the golden record
# chooses from, what a synced record mirrors and what a re-imported row is checked against.
PERSON_FIELDS = (
    "full_name",
    "sex",
    "birth_year",
    "birth_month",
    "birth_day",
    "id_number",
    "insurance_number",
    "phone",
    "address",
    "commune_id",
)


class ImportBatch(models.Model):
    """One health-records file imported (`cqs persons import-health`, or the officers' upload)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Đang nhập"
        DONE = "done", "Đã nhập xong"
        FAILED = "failed", "Không đọc được tệp"

    file_name = models.CharField("tên tệp", max_length=255)
    status = models.CharField("trạng thái", max_length=10, choices=Status.choices, default=Status.RUNNING)
    message = models.TextField("thông báo", blank=True)
    rows_read = models.PositiveIntegerField("số dòng đã đọc", default=0)
    imported = models.PositiveIntegerField("số bản ghi đã nhập", default=0)
    rejected = models.PositiveIntegerField("số dòng bị loại", default=0)
    skipped_existing = models.PositiveIntegerField("số dòng đã có", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người nhập",
    )
    actor_label = models.CharField("người thực hiện", max_length=150, blank=True)
    created_at = models.DateTimeField("bắt đầu lúc", auto_now_add=True)
    finished_at = models.DateTimeField("xong lúc", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "đợt nhập hồ sơ sức khỏe"
        verbose_name_plural = "đợt nhập hồ sơ sức khỏe"

    def __str__(self):
        return self.file_name


class ImportProblem(models.Model):
    """A row of an import file that could not be used, or a value in it that was doubtful."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems", verbose_name="đợt nhập")
    row = models.PositiveIntegerField("dòng")  # 1 = the header row
    column = models.CharField("cột", max_length=255, blank=True)
    value = models.TextField("giá trị trong tệp", blank=True)
    message = models.TextField("thông báo")

    class Meta:
        ordering = ["batch", "row", "pk"]
        verbose_name = "lỗi khi nhập"
        verbose_name_plural = "lỗi khi nhập"

    def __str__(self):
        return f"{self.batch} — dòng {self.row}"


class Person(models.Model):
    """One person: the records linked to them and the golden record built from those
    (`golden`: field → {"value", "source", "record_id"} by the survivorship rules)."""

    code = models.CharField("mã cá nhân", max_length=20, unique=True)
    golden = models.JSONField("bản ghi tổng hợp", default=dict)
    record_count = models.PositiveIntegerField("số bản ghi", default=0)
    # A person whose records all went to others (a merge, a re-run) keeps its row and code: links and
    # history that name it still resolve.
    active = models.BooleanField("còn hiệu lực", default=True)
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    updated_at = models.DateTimeField("cập nhật lúc", auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "cá nhân"
        verbose_name_plural = "cá nhân"

    def __str__(self):
        return self.code


class SourceRecord(models.Model):
    """A person as one source system holds them: its fields as read, never rewritten by linking."""

    source = models.CharField("nguồn", max_length=12, choices=Source.choices)
    source_id = models.CharField("mã bản ghi tại nguồn", max_length=100)
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="records", verbose_name="đợt nhập"
    )
    source_row = models.PositiveIntegerField("dòng trong tệp", null=True, blank=True)
    facility = models.CharField("cơ sở khám chữa bệnh", max_length=200, blank=True)
    full_name = models.CharField("họ và tên", max_length=200)
    # The name without diacritics or case (core.text.fold), for the officers' search by name.
    name_folded = models.CharField("họ và tên không dấu", max_length=200, blank=True)
    sex = models.CharField("giới tính", max_length=3, choices=Sex.choices, blank=True)
    birth_text = models.CharField("ngày sinh như ghi", max_length=40, blank=True)
    birth_year = models.PositiveSmallIntegerField("năm sinh", null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField("tháng sinh", null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField("ngày sinh", null=True, blank=True)
    id_number = models.CharField("số CMND/CCCD", max_length=12, blank=True)
    insurance_number = models.CharField("số thẻ BHYT", max_length=15, blank=True)
    phone = models.CharField("điện thoại", max_length=15, blank=True)
    address = models.CharField("địa chỉ", max_length=300, blank=True)
    commune = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="xã, phường"
    )
    # When the source last confirmed the record (a visit, a registration, a dossier) and whether the
    # source verified the identity (against the population database, a civil-status register): the
    # golden record takes each field from the most recent verified record that has it.
    recorded_on = models.DateField("ngày ghi nhận", null=True, blank=True)
    verified = models.BooleanField("đã xác thực", default=False)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="records", verbose_name="cá nhân"
    )
    data = models.JSONField("nguyên văn", default=dict, blank=True)
    created_at = models.DateTimeField("nhập lúc", auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="persons_record_source_unique")]
        indexes = [
            models.Index(fields=["person"], name="persons_record_person_idx"),
            models.Index(fields=["source", "facility"], name="persons_record_facility_idx"),
            models.Index(fields=["id_number"], name="persons_record_id_idx"),
        ]
        ordering = ["source", "source_id"]
        permissions = [
            ("view_health_data", "Xem dữ liệu sức khỏe (dữ liệu cá nhân nhạy cảm)"),
            ("review_links", "Đối soát, gộp và tách bản ghi cá nhân"),
        ]
        verbose_name = "bản ghi nguồn"
        verbose_name_plural = "bản ghi nguồn"

    def __str__(self):
        return f"{self.get_source_display()} {self.source_id}"

    def save(self, *args, **kwargs):
        # The importers write in bulk and set it themselves; this covers a record saved one by one.
        self.name_folded = fold(self.full_name)
        super().save(*args, **kwargs)


class LinkModel(models.Model):
    """One trained version of the linkage model: the Splink settings with its m and u values
    (`parameters`, Splink's own settings JSON), and the match-weight thresholds chosen from its distribution:
    at or above `link_weight` a pair is the same person; from `review_weight` up to it, an officer decides."""

    version = models.PositiveIntegerField("phiên bản", unique=True)
    engine = models.CharField("máy tính toán", max_length=10)
    parameters = models.JSONField("tham số mô hình (Splink)")
    link_weight = models.FloatField("ngưỡng cùng người (trọng số)")
    review_weight = models.FloatField("ngưỡng cần đối soát (trọng số)")
    training = models.JSONField("thông tin huấn luyện", default=dict)  # records, labels used, histogram
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người huấn luyện",
    )
    created_at = models.DateTimeField("huấn luyện lúc", auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = "mô hình so khớp"
        verbose_name_plural = "mô hình so khớp"

    def __str__(self):
        return f"v{self.version}"


class LinkRun(models.Model):
    """One linking run: predictions with a model version, clusters, persons and the review queue."""

    class Status(models.TextChoices):
        RUNNING = "running", "Đang chạy"
        DONE = "done", "Hoàn thành"
        FAILED = "failed", "Lỗi"

    model = models.ForeignKey(LinkModel, on_delete=models.PROTECT, related_name="runs", verbose_name="mô hình")
    engine = models.CharField("máy tính toán", max_length=10)
    status = models.CharField("trạng thái", max_length=10, choices=Status.choices, default=Status.RUNNING)
    records = models.PositiveIntegerField("số bản ghi", default=0)
    pairs = models.PositiveIntegerField("số cặp được so", default=0)
    linked_pairs = models.PositiveIntegerField("số cặp cùng người", default=0)
    review_pairs = models.PositiveIntegerField("số cặp cần đối soát", default=0)
    persons = models.PositiveIntegerField("số cá nhân", default=0)
    seconds = models.FloatField("thời gian chạy (giây)", default=0)
    message = models.TextField("thông báo", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người chạy",
    )
    started_at = models.DateTimeField("bắt đầu lúc", auto_now_add=True)
    finished_at = models.DateTimeField("xong lúc", null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = "lượt so khớp"
        verbose_name_plural = "lượt so khớp"

    def __str__(self):
        return f"Lượt so khớp {self.pk} (mô hình {self.model})"


class CandidatePair(models.Model):
    """A pair a run scored in the uncertain zone (review_weight ≤ weight < link_weight), with what
    each comparison contributed (`comparisons`: [{"column", "label", "level", "weight"}], the
    waterfall chart's bars; the prior is `prior_weight`). `left_id` < `right_id`."""

    run = models.ForeignKey(LinkRun, on_delete=models.CASCADE, related_name="candidates", verbose_name="lượt so khớp")
    left = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+", verbose_name="bản ghi thứ nhất")
    right = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+", verbose_name="bản ghi thứ hai")
    match_weight = models.FloatField("trọng số khớp")
    match_probability = models.FloatField("xác suất cùng người")
    prior_weight = models.FloatField("trọng số ban đầu", default=0)
    comparisons = models.JSONField("đóng góp của từng trường", default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "left", "right"], name="persons_candidate_unique"),
        ]
        indexes = [models.Index(fields=["run", "match_weight"], name="persons_candidate_weight_idx")]
        ordering = ["-match_weight", "pk"]
        verbose_name = "cặp cần đối soát"
        verbose_name_plural = "cặp cần đối soát"

    def __str__(self):
        return f"{self.left_id} — {self.right_id} ({self.match_weight:.1f})"


class Decision(models.TextChoices):
    MATCH = "match", "Cùng một người"
    NOT_MATCH = "not_match", "Không phải cùng người"
    UNSURE = "unsure", "Chưa chắc chắn"


class PairDecision(models.Model):
    """An officer's decision on a pair of records. Every decision is kept; the latest for a pair is the
    one in force, a labelled pair for the next training and a constraint no re-run overrides."""

    left = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+", verbose_name="bản ghi thứ nhất")
    right = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+", verbose_name="bản ghi thứ hai")
    decision = models.CharField("quyết định", max_length=10, choices=Decision.choices)
    note = models.TextField("ghi chú", blank=True)
    match_weight = models.FloatField("trọng số khớp khi quyết định", null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người quyết định",
    )
    at = models.DateTimeField("lúc", auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["left", "right", "at"], name="persons_decision_pair_idx")]
        ordering = ["-at", "-pk"]
        verbose_name = "quyết định đối soát"
        verbose_name_plural = "quyết định đối soát"

    def __str__(self):
        return f"{self.left_id} — {self.right_id}: {self.get_decision_display()}"


class ClusterChange(models.Model):
    """A change of which person records belong to: a run, a merge, a split or an unmerge.
    `before` and `after`: {record id: person id or null} for the records it moved, so that
    an unmerge puts `before` back (and is itself a change that can be undone)."""

    class Kind(models.TextChoices):
        RUN = "run", "Lượt so khớp"
        MERGE = "merge", "Gộp"
        SPLIT = "split", "Tách"
        UNMERGE = "unmerge", "Hoàn tác"

    kind = models.CharField("loại", max_length=10, choices=Kind.choices)
    run = models.ForeignKey(
        LinkRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="lượt so khớp"
    )
    before = models.JSONField("trước", default=dict)
    after = models.JSONField("sau", default=dict)
    note = models.TextField("ghi chú", blank=True)
    undone_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="hoàn tác bởi"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="người thực hiện"
    )
    at = models.DateTimeField("lúc", auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "thay đổi nhóm bản ghi"
        verbose_name_plural = "thay đổi nhóm bản ghi"

    def __str__(self):
        return f"{self.get_kind_display()} lúc {self.at:%d/%m/%Y %H:%M}"

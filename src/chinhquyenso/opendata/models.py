"""The open-data portal (cổng dữ liệu mở): datasets published by the province's agencies, their
resources (files, and tables queryable through the CKAN DataStore API), the history of each dataset's
versions, and the vocabularies — licences, themes — that are the province's data.

A dataset is drafted by an agency's officer, approved by its leader and then public; withdrawing it
keeps the record (and its public page says it was withdrawn). Datasets generated from the platform's
live data (`Dataset.generator`) are refreshed on schedule by opendata.live. Writes go through
opendata.services; see docs/opendata.md."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

LICENCE_CODE = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]*\Z",
    "Mã giấy phép chỉ gồm chữ thường không dấu, chữ số, dấu chấm, dấu gạch dưới hoặc gạch ngang.",
)


class Licence(models.Model):
    """A licence datasets may carry (data: opendata/data/vocabularies.json, editable in the admin).
    `url` is the licence's canonical address, used as the DCAT dct:license. Exactly one is the
    province's default (`is_default`): new datasets and the live datasets without a licence of their
    own take it; the database allows one at most, and choosing another in the admin clears the
    previous one in the same transaction (LicenceAdmin)."""

    # CKAN's license_id, e.g. "cc-by-4.0": a slug with dots (a SlugField refused the shipped codes in the admin).
    code = models.CharField("mã", max_length=40, unique=True, validators=[LICENCE_CODE])
    title = models.CharField("tên giấy phép", max_length=200)
    url = models.URLField("địa chỉ văn bản giấy phép", max_length=300)
    is_default = models.BooleanField("mặc định", default=False)
    open = models.BooleanField("là giấy phép mở", default=True)

    class Meta:
        ordering = ["-is_default", "title"]
        verbose_name = "giấy phép dữ liệu"
        verbose_name_plural = "giấy phép dữ liệu"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="opendata_licence_one_default",
                violation_error_message="Chỉ một giấy phép được là giấy phép mặc định.",
            )
        ]

    def __str__(self):
        return self.title


class Theme(models.Model):
    """A field (lĩnh vực) datasets are grouped by — a CKAN group; `eu_theme` is the matching concept of
    the EU data-theme vocabulary (DCAT-AP's dcat:theme), so harvesters abroad can classify it."""

    code = models.SlugField("mã", max_length=60, unique=True)
    name = models.CharField("tên lĩnh vực", max_length=200)
    description = models.TextField("mô tả", blank=True)
    eu_theme = models.CharField("chủ đề dữ liệu EU (mã)", max_length=10, blank=True)  # e.g. "GOVE", "AGRI"
    order = models.PositiveSmallIntegerField("thứ tự", default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "lĩnh vực dữ liệu"
        verbose_name_plural = "lĩnh vực dữ liệu"

    def __str__(self):
        return self.name


class Tag(models.Model):
    """A keyword (từ khóa), NFC, as written; `folded` (no diacritics, lower case) finds it however typed."""

    name = models.CharField("từ khóa", max_length=100, unique=True)
    folded = models.CharField("từ khóa không dấu", max_length=100, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "từ khóa"
        verbose_name_plural = "từ khóa"

    def __str__(self):
        return self.name


class Frequency(models.TextChoices):
    """Update frequency, as the EU frequency vocabulary names it (DCAT-AP dct:accrualPeriodicity).
    `FREQUENCY_DAYS` says when a dataset is late (publishing figures)."""

    DAILY = "DAILY", "Hằng ngày"
    WEEKLY = "WEEKLY", "Hằng tuần"
    MONTHLY = "MONTHLY", "Hằng tháng"
    QUARTERLY = "QUARTERLY", "Hằng quý"
    ANNUAL_2 = "ANNUAL_2", "Sáu tháng một lần"
    ANNUAL = "ANNUAL", "Hằng năm"
    IRREG = "IRREG", "Không định kỳ"
    NEVER = "NEVER", "Không cập nhật"


# Days after which a dataset that has not been refreshed is late against its frequency (None: never late).
FREQUENCY_DAYS = {
    Frequency.DAILY: 1,
    Frequency.WEEKLY: 7,
    Frequency.MONTHLY: 31,
    Frequency.QUARTERLY: 92,
    Frequency.ANNUAL_2: 183,
    Frequency.ANNUAL: 366,
    Frequency.IRREG: None,
    Frequency.NEVER: None,
}


class DatasetStatus(models.TextChoices):
    DRAFT = "draft", "Bản nháp"
    SUBMITTED = "submitted", "Chờ lãnh đạo duyệt"
    PUBLIC = "public", "Đã công bố"
    WITHDRAWN = "withdrawn", "Đã rút"


class Dataset(models.Model):
    """A dataset (bộ dữ liệu): CKAN's package, DCAT's dcat:Dataset."""

    name = models.SlugField("mã bộ dữ liệu (trong địa chỉ)", max_length=100, unique=True)
    title = models.CharField("tên bộ dữ liệu", max_length=300)
    description = models.TextField("mô tả", blank=True)
    agency = models.ForeignKey(
        "org.Agency", on_delete=models.PROTECT, related_name="datasets", verbose_name="cơ quan công bố"
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="datasets", verbose_name="lĩnh vực")
    tags = models.ManyToManyField(Tag, blank=True, related_name="datasets", verbose_name="từ khóa")
    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="datasets", verbose_name="giấy phép")
    frequency = models.CharField("tần suất cập nhật", max_length=12, choices=Frequency.choices, default=Frequency.IRREG)
    temporal_start = models.DateField("dữ liệu từ ngày", null=True, blank=True)
    temporal_end = models.DateField("dữ liệu đến ngày", null=True, blank=True)
    spatial = models.CharField("phạm vi địa lý", max_length=200, blank=True)
    spatial_code = models.CharField(
        "mã đơn vị hành chính", max_length=10, blank=True, help_text="Mã tỉnh hoặc xã của phạm vi địa lý."
    )
    contact_name = models.CharField("đầu mối liên hệ", max_length=200, blank=True)
    contact_email = models.EmailField("thư điện tử liên hệ", blank=True)
    version = models.CharField("phiên bản", max_length=40, blank=True)
    status = models.CharField(
        "trạng thái", max_length=12, choices=DatasetStatus.choices, default=DatasetStatus.DRAFT, db_index=True
    )
    # A dataset generated from the platform's own data: the key of its generator (opendata.live.GENERATORS).
    generator = models.CharField("sinh từ dữ liệu hệ thống", max_length=60, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người tạo",
    )
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    modified_at = models.DateTimeField("sửa lúc", auto_now=True)
    published_at = models.DateTimeField("công bố lúc", null=True, blank=True)
    # When its data last changed (a resource added, replaced or regenerated): the publishing figures
    # compare it with the frequency.
    data_updated_at = models.DateTimeField("dữ liệu cập nhật lúc", null=True, blank=True)
    withdrawn_reason = models.CharField("lý do rút", max_length=500, blank=True)
    # Folded ASCII words of the title, description, keywords, agency and themes (core.text.fold):
    # what package_search's q matches, the same on SQLite and PostgreSQL.
    search_text = models.TextField("chữ để tìm kiếm", blank=True, editable=False)
    revision = models.PositiveIntegerField("số phiên bản lưu", default=0)

    class Meta:
        ordering = ["-modified_at"]
        verbose_name = "bộ dữ liệu mở"
        verbose_name_plural = "bộ dữ liệu mở"
        indexes = [models.Index(fields=["status", "agency"]), models.Index(fields=["status", "-modified_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["generator", "agency"], condition=~models.Q(generator=""), name="opendata_one_generated"
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status == DatasetStatus.PUBLIC


class ResourceFormat(models.TextChoices):
    CSV = "CSV", "CSV"
    XLSX = "XLSX", "XLSX"
    JSON = "JSON", "JSON"
    GEOJSON = "GeoJSON", "GeoJSON"
    PDF = "PDF", "PDF"


class Resource(models.Model):
    """One file of a dataset (tài nguyên). Tabular ones (CSV, XLSX) are also loaded into a DataStore
    table (`datastore_table`, opendata.datastore) for datastore_search and the preview."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="resources", verbose_name="bộ dữ liệu")
    name = models.CharField("tên", max_length=300)
    description = models.TextField("mô tả", blank=True)
    format = models.CharField("định dạng", max_length=10, choices=ResourceFormat.choices)
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+", verbose_name="tệp")
    position = models.PositiveSmallIntegerField("thứ tự", default=0)
    # The generated resource's key within its generator (e.g. "theo-thang"); empty for uploads.
    generated_key = models.CharField("khóa bảng sinh tự động", max_length=60, blank=True)
    datastore_table = models.CharField("bảng DataStore", max_length=63, blank=True)
    # [{"id": column name as published, "type": "text" | "int" | "numeric" | "date"}], in order.
    datastore_fields = models.JSONField("các cột DataStore", default=list, blank=True)
    row_count = models.PositiveIntegerField("số dòng", null=True, blank=True)
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    modified_at = models.DateTimeField("sửa lúc", auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "tài nguyên dữ liệu"
        verbose_name_plural = "tài nguyên dữ liệu"

    def __str__(self):
        return self.name

    @property
    def datastore_active(self) -> bool:
        return bool(self.datastore_table)


class DatasetVersion(models.Model):
    """A dataset as it was after each change (its metadata and the list of its resources with their
    files' SHA-256): the history a visitor can read and a reviewer can compare."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions", verbose_name="bộ dữ liệu")
    number = models.PositiveIntegerField("số phiên bản")
    at = models.DateTimeField("thời điểm")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người thực hiện",
    )
    action = models.CharField("thao tác", max_length=40)
    status = models.CharField("trạng thái", max_length=12, choices=DatasetStatus.choices)
    snapshot = models.JSONField("nội dung phiên bản")
    note = models.CharField("ghi chú", max_length=500, blank=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="opendata_version_unique")]
        verbose_name = "phiên bản bộ dữ liệu"
        verbose_name_plural = "phiên bản bộ dữ liệu"

    def __str__(self):
        return f"{self.dataset} — phiên bản {self.number}"

import datetime as dt

from django.db import models

from chinhquyenso.core.unique import NamedUniqueMessage


class AgencyKind(models.TextChoices):
    PROVINCE_COMMITTEE = "province_committee", "UBND tỉnh"
    DEPARTMENT = "department", "Sở, ban, ngành"
    DISTRICT_COMMITTEE = "district_committee", "UBND cấp huyện"
    COMMUNE_COMMITTEE = "commune_committee", "UBND cấp xã"
    SERVICE_CENTER = "service_center", "Trung tâm Phục vụ hành chính công"
    SPECIAL_UNIT = "special_unit", "Đơn vị khác"


class Level(models.TextChoices):
    PROVINCE = "province", "Cấp tỉnh"
    DISTRICT = "district", "Cấp huyện"
    COMMUNE = "commune", "Cấp xã"


LEVEL_OF_KIND = {
    AgencyKind.PROVINCE_COMMITTEE: Level.PROVINCE,
    AgencyKind.DEPARTMENT: Level.PROVINCE,
    AgencyKind.SERVICE_CENTER: Level.PROVINCE,
    AgencyKind.SPECIAL_UNIT: Level.PROVINCE,
    AgencyKind.DISTRICT_COMMITTEE: Level.DISTRICT,
    AgencyKind.COMMUNE_COMMITTEE: Level.COMMUNE,
}


class AgencyQuerySet(models.QuerySet):
    def valid_on(self, day: dt.date):
        return self.filter(valid_from__lte=day).filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=day))

    def current(self):
        return self.filter(valid_to__isnull=True)


class Agency(NamedUniqueMessage, models.Model):
    """One version of an agency. Reorganizations close versions and open new
    ones instead of editing them, so history keeps the agency that held it."""

    code = models.SlugField("mã nội bộ", max_length=60, unique=True)
    name = models.CharField("tên cơ quan", max_length=255)
    name_folded = models.CharField("tên không dấu (để tìm kiếm)", max_length=255, db_index=True, editable=False)
    kind = models.CharField("loại", max_length=30, choices=AgencyKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name="cơ quan cấp trên",
    )
    electronic_code = models.CharField("mã định danh điện tử", max_length=30, blank=True, db_index=True)
    admin_unit_code = models.CharField(
        "mã đơn vị hành chính",
        max_length=10,
        blank=True,
        db_index=True,
        help_text="Mã của đơn vị hành chính mà UBND này quản lý, theo danh mục đơn vị hành chính Việt Nam "
        "(ví dụ 30307 là phường Long Xuyên); để trống với sở, ngành.",
    )
    valid_from = models.DateField("hiệu lực từ", default=dt.date(2000, 1, 1))
    valid_to = models.DateField(
        "hết hiệu lực từ", null=True, blank=True, help_text="Ngày đầu tiên cơ quan không còn hoạt động."
    )

    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = "cơ quan"
        verbose_name_plural = "cơ quan, đơn vị"
        indexes = [models.Index(fields=["valid_to", "kind"])]

    def __str__(self):
        return self.name

    @property
    def level(self) -> str:
        return LEVEL_OF_KIND[self.kind]

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class Reorganization(models.Model):
    class Kind(models.TextChoices):
        RENAME = "rename", "Đổi tên"
        MERGE = "merge", "Hợp nhất, sáp nhập"
        SPLIT = "split", "Chia tách"
        DISSOLVE = "dissolve", "Giải thể"
        MOVE = "move", "Chuyển cơ quan cấp trên"
        TRANSFER_PROCEDURE = "transfer_procedure", "Chuyển thẩm quyền giải quyết TTHC"

    kind = models.CharField("loại", max_length=30, choices=Kind.choices)
    effective_date = models.DateField("ngày hiệu lực")
    legal_basis = models.CharField("căn cứ", max_length=255, blank=True)
    note = models.TextField("ghi chú", blank=True)
    subject = models.CharField("đối tượng", max_length=60, blank=True, help_text="Mã TTHC khi chuyển thẩm quyền.")
    created_at = models.DateTimeField("thời điểm ghi nhận", auto_now_add=True)

    class Meta:
        ordering = ["effective_date", "id"]
        verbose_name = "sắp xếp tổ chức"
        verbose_name_plural = "sắp xếp tổ chức"

    def __str__(self):
        return f"{self.get_kind_display()} ({self.effective_date:%d/%m/%Y})"


class Succession(models.Model):
    """source → successor for one reorganization; `takes_open_work` marks the
    successor that receives the source's open dossiers and officers."""

    reorganization = models.ForeignKey(
        Reorganization, on_delete=models.CASCADE, related_name="successions", verbose_name="sắp xếp tổ chức"
    )
    source = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="successions_out", verbose_name="cơ quan được sắp xếp"
    )
    successor = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successions_in",
        verbose_name="cơ quan kế thừa",
    )
    takes_open_work = models.BooleanField("nhận hồ sơ, cán bộ đang xử lý", default=True)

    class Meta:
        verbose_name = "quan hệ kế thừa"
        verbose_name_plural = "quan hệ kế thừa"

    def __str__(self):
        return f"{self.source} → {self.successor or 'không có cơ quan kế thừa'}"

"""Crop-pest surveillance: the catalog of pests, diseases and light-trap classes with their action
thresholds (data the plant-protection department edits), the stations (light traps and fixed survey
points), trap counts from smart traps (MQTT, HTTP, CSV), field surveys, the alerts and bulletins made
from them, farmers' subscriptions to warnings, and photo identification with experts' confirmations.

Counts are never edited: a trap message is stored once per (device, message id) — a resent or late
message is recognised and not counted twice — and a correction is a new message."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from chinhquyenso.core.unique import NamedUniqueMessage
from chinhquyenso.org.models import Agency


class OrganismKind(models.TextChoices):
    INSECT = "insect", "Côn trùng gây hại"
    DISEASE = "disease", "Bệnh hại"
    MOLLUSC = "mollusc", "Ốc hại"
    OTHER = "other", "Sinh vật gây hại khác"


class Crop(NamedUniqueMessage, models.Model):
    """A crop (lúa, …) with its growth stages in order, as the department names them."""

    code = models.SlugField("mã cây trồng", max_length=30, unique=True)
    name = models.CharField("tên cây trồng", max_length=100)
    # [{"code": "de-nhanh", "name": "Đẻ nhánh", "days_from": 15, "days_to": 40}, …] — days after sowing
    stages = models.JSONField("giai đoạn sinh trưởng", default=list, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "cây trồng"
        verbose_name_plural = "cây trồng"

    def __str__(self):
        return self.name


class Organism(NamedUniqueMessage, models.Model):
    """A pest or disease of the catalog (sinh vật gây hại)."""

    code = models.SlugField("mã", max_length=40, unique=True)
    kind = models.CharField("loại", max_length=10, choices=OrganismKind.choices)
    name = models.CharField("tên tiếng Việt", max_length=150)
    name_folded = models.CharField("tên không dấu (để tìm kiếm)", max_length=150, editable=False, db_index=True)
    other_names = models.CharField("tên gọi khác", max_length=300, blank=True, help_text="Cách nhau bởi dấu phẩy.")
    scientific_name = models.CharField("tên khoa học", max_length=150, blank=True)
    crops = models.ManyToManyField(Crop, related_name="organisms", blank=True, verbose_name="cây trồng bị hại")
    damaging_stages = models.CharField("giai đoạn gây hại", max_length=300, blank=True)
    natural_enemies = models.TextField("thiên địch", blank=True)
    description = models.TextField("nhận biết", blank=True)
    damage = models.TextField("tác hại", blank=True)
    management = models.TextField("biện pháp quản lý", blank=True)
    source = models.CharField("nguồn tài liệu", max_length=300, blank=True)
    is_natural_enemy = models.BooleanField(
        "là thiên địch", default=False, help_text="Nhện, bọ rùa, bọ xít mù xanh…: đếm để tính tỷ lệ thiên địch/sâu hại."
    )
    active = models.BooleanField("đang dùng", default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = "sinh vật gây hại"
        verbose_name_plural = "danh mục sinh vật gây hại"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        from chinhquyenso.core.text import fold

        self.name_folded = fold(self.name)
        super().save(*args, **kwargs)


class TrapClass(NamedUniqueMessage, models.Model):
    """A class a smart light trap's camera recognises (35 in seed 002), mapped to the catalog."""

    code = models.SlugField("mã lớp", max_length=40, unique=True)
    name = models.CharField("tên lớp", max_length=150)
    organism = models.ForeignKey(
        Organism,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trap_classes",
        verbose_name="sinh vật trong danh mục",
    )
    max_per_night = models.PositiveIntegerField(
        "số lượng tối đa có thể có trong một đêm",
        null=True,
        blank=True,
        help_text="Tin nhắn báo nhiều hơn bị đánh dấu nghi ngờ, chờ kiểm tra; để trống: không giới hạn.",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "lớp nhận dạng của bẫy đèn"
        verbose_name_plural = "lớp nhận dạng của bẫy đèn"

    def __str__(self):
        return f"{self.code} — {self.name}"


class Measure(models.TextChoices):
    PER_M2 = "per_m2", "con/m²"
    PER_TRAP_NIGHT = "per_trap_night", "con/bẫy/đêm"
    INFESTATION_PCT = "infestation_pct", "% dảnh, lá bị hại"
    PER_CLUMP = "per_clump", "con/khóm"


class Threshold(models.Model):
    """An action threshold: at `warn_level` a warning is advised, at `action_level` treatment."""

    organism = models.ForeignKey(
        Organism, on_delete=models.CASCADE, related_name="thresholds", verbose_name="sinh vật gây hại"
    )
    crop = models.ForeignKey(Crop, on_delete=models.PROTECT, related_name="thresholds", verbose_name="cây trồng")
    stage = models.CharField(
        "giai đoạn sinh trưởng",
        max_length=40,
        blank=True,
        help_text="Mã giai đoạn của cây trồng; để trống: mọi giai đoạn.",
    )
    measure = models.CharField("đơn vị đo", max_length=20, choices=Measure.choices)
    warn_level = models.DecimalField("ngưỡng cảnh báo", max_digits=12, decimal_places=2)
    action_level = models.DecimalField("ngưỡng phòng trừ", max_digits=12, decimal_places=2, null=True, blank=True)
    source = models.CharField("căn cứ", max_length=300, help_text="Văn bản, quy chuẩn hoặc hướng dẫn quy định ngưỡng.")
    valid_from = models.DateField("áp dụng từ", null=True, blank=True)
    valid_to = models.DateField("hết áp dụng từ", null=True, blank=True)

    class Meta:
        ordering = ["organism__name", "crop__name", "stage", "measure"]
        verbose_name = "ngưỡng phòng trừ"
        verbose_name_plural = "ngưỡng cảnh báo, phòng trừ"

    def __str__(self):
        return f"{self.organism} — {self.crop} {self.stage} ({self.get_measure_display()})"


class SeasonKind(models.TextChoices):
    DONG_XUAN = "dong_xuan", "Đông Xuân"
    HE_THU = "he_thu", "Hè Thu"
    THU_DONG = "thu_dong", "Thu Đông"


class Season(NamedUniqueMessage, models.Model):
    """A cropping season (vụ) of one year, with its usual dates in the province."""

    code = models.SlugField("mã vụ", max_length=30, unique=True)  # e.g. "dong-xuan-2026-2027"
    kind = models.CharField("vụ", max_length=10, choices=SeasonKind.choices)
    year = models.PositiveSmallIntegerField("năm thu hoạch")
    starts_on = models.DateField("bắt đầu")
    ends_on = models.DateField("kết thúc")

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = "vụ sản xuất"
        verbose_name_plural = "vụ sản xuất"

    def __str__(self):
        return f"Vụ {self.get_kind_display()} {self.year}"


class Station(NamedUniqueMessage, models.Model):
    """A light trap (smart, reporting by itself, or read by hand) or a fixed survey point."""

    class Kind(models.TextChoices):
        SMART_TRAP = "smart_trap", "Bẫy đèn thông minh"
        LIGHT_TRAP = "light_trap", "Bẫy đèn thường (ghi tay)"
        SURVEY_POINT = "survey_point", "Điểm điều tra cố định"

    code = models.SlugField("mã trạm", max_length=60, unique=True)
    kind = models.CharField("loại", max_length=20, choices=Kind.choices)
    name = models.CharField("tên", max_length=200)
    commune = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name="xã, phường (khi đặt trạm)"
    )
    latitude = models.DecimalField("vĩ độ", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("kinh độ", max_digits=9, decimal_places=6, null=True, blank=True)
    crop = models.ForeignKey(Crop, on_delete=models.PROTECT, related_name="stations", verbose_name="cây trồng")
    sown_on = models.DateField("ngày xuống giống vụ này", null=True, blank=True)
    season = models.ForeignKey(
        Season, null=True, blank=True, on_delete=models.PROTECT, related_name="stations", verbose_name="vụ"
    )
    owner = models.CharField("đơn vị quản lý", max_length=200, blank=True)
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="cơ quan theo dõi",
        help_text="Trạm bảo vệ thực vật hoặc trung tâm vùng phụ trách (phạm vi của cán bộ).",
    )
    # A smart trap's credentials: its device id (the MQTT topic's <device_id>) and the salt its secret is
    # derived from with the installation's key (services.stations): the platform must recompute the HMAC
    # each message carries, so it keeps a derivation, not a one-way hash — this column alone cannot sign.
    device_id = models.SlugField("mã thiết bị", max_length=60, unique=True, null=True, blank=True)
    device_secret_hash = models.CharField("muối sinh mã bí mật", max_length=200, blank=True, editable=False)
    active = models.BooleanField("đang hoạt động", default=True)
    last_message_at = models.DateTimeField("tin nhắn gần nhất lúc", null=True, blank=True)
    silent_since = models.DateTimeField("im lặng từ", null=True, blank=True)
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "trạm bẫy đèn, điểm điều tra"
        verbose_name_plural = "trạm bẫy đèn, điểm điều tra"
        # The app's grants (pests.access): given to groups in the administration, like every permission.
        permissions = [
            ("survey_pests", "Điều tra đồng ruộng, theo dõi bẫy đèn và cảnh báo sinh vật gây hại"),
            ("manage_pest_catalog", "Sửa danh mục sinh vật gây hại, ngưỡng và trạm"),
            ("issue_pest_bulletin", "Lập thông báo tình hình sinh vật gây hại"),
            ("confirm_identification", "Chuyên gia xác nhận ảnh nhận dạng sinh vật gây hại"),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Transport(models.TextChoices):
    MQTT = "mqtt", "MQTT"
    HTTP = "http", "HTTP"
    CSV = "csv", "Nhập tệp CSV"
    MANUAL = "manual", "Cán bộ nhập"


class TrapMessage(models.Model):
    """One report of a trap: a time window and its counts per class. Stored once per (station,
    message_id); `status` says whether it counts (accepted) or is kept for review (flagged)."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Đã ghi nhận"
        FLAGGED = "flagged", "Nghi ngờ, chờ kiểm tra"
        REJECTED = "rejected", "Bị loại"

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="messages", verbose_name="trạm")
    message_id = models.CharField("mã tin nhắn", max_length=80)
    window_start = models.DateTimeField("từ lúc")
    window_end = models.DateTimeField("đến lúc")
    received_at = models.DateTimeField("nhận lúc", db_index=True)
    transport = models.CharField("đường nhận", max_length=10, choices=Transport.choices)
    status = models.CharField("trạng thái", max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    reason = models.TextField("lý do", blank=True)
    images = models.JSONField("ảnh", default=list, blank=True)  # the device's image references
    payload_sha256 = models.CharField("SHA-256 nội dung", max_length=64)

    class Meta:
        verbose_name = "tin nhắn của bẫy"
        verbose_name_plural = "tin nhắn của bẫy"
        constraints = [models.UniqueConstraint(fields=["station", "message_id"], name="pests_message_once")]
        indexes = [models.Index(fields=["station", "window_start"])]

    def __str__(self):
        return f"{self.station.code} {self.message_id}"


class TrapCount(models.Model):
    """A count of one class in one message's window (denormalised station, night and status so the
    density queries need no join through the message)."""

    message = models.ForeignKey(TrapMessage, on_delete=models.CASCADE, related_name="counts", verbose_name="tin nhắn")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name="trạm")
    trap_class = models.ForeignKey(TrapClass, on_delete=models.PROTECT, related_name="+", verbose_name="lớp")
    night = models.DateField("đêm bẫy")  # the local date on which the window's night began
    count = models.PositiveIntegerField("số lượng")
    accepted = models.BooleanField("được tính", default=True)

    class Meta:
        verbose_name = "số lượng vào bẫy"
        verbose_name_plural = "số lượng vào bẫy"
        constraints = [models.UniqueConstraint(fields=["message", "trap_class"], name="pests_count_once")]
        indexes = [models.Index(fields=["night", "station", "trap_class"])]

    def __str__(self):
        return f"{self.trap_class.code}: {self.count}"


class IngestProblem(models.Model):
    """A message refused before it could be stored against a station (malformed, unknown device, bad
    signature) or a row of a CSV import that was rejected — kept with its reason, never a crash."""

    received_at = models.DateTimeField("nhận lúc", auto_now_add=True, db_index=True)
    transport = models.CharField("đường nhận", max_length=10, choices=Transport.choices)
    device_id = models.CharField("mã thiết bị", max_length=80, blank=True)
    message_id = models.CharField("mã tin nhắn", max_length=80, blank=True)
    reason = models.TextField("lý do")
    excerpt = models.TextField("trích nội dung", blank=True)  # the first bytes, control characters removed

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "tin nhắn bị từ chối"
        verbose_name_plural = "tin nhắn bị từ chối"

    def __str__(self):
        return f"{self.device_id or '?'}: {self.reason[:60]}"


class Survey(models.Model):
    """A field survey by a plant-protection officer at a point or a field (điều tra định kỳ)."""

    client_id = models.UUIDField("mã phiếu trên máy", unique=True)  # offline forms submit once
    station = models.ForeignKey(
        Station, null=True, blank=True, on_delete=models.PROTECT, related_name="surveys", verbose_name="điểm điều tra"
    )
    commune = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="xã, phường")
    latitude = models.DecimalField("vĩ độ", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("kinh độ", max_digits=9, decimal_places=6, null=True, blank=True)
    crop = models.ForeignKey(Crop, on_delete=models.PROTECT, related_name="+", verbose_name="cây trồng")
    stage = models.CharField("giai đoạn sinh trưởng", max_length=40)
    surveyed_on = models.DateField("ngày điều tra", db_index=True)
    area_ha = models.DecimalField("diện tích đại diện (ha)", max_digits=10, decimal_places=2, null=True, blank=True)
    note = models.TextField("ghi chú", blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="cán bộ điều tra"
    )
    submitted_at = models.DateTimeField("gửi lúc", auto_now_add=True)

    class Meta:
        ordering = ["-surveyed_on", "-id"]
        verbose_name = "phiếu điều tra"
        verbose_name_plural = "phiếu điều tra đồng ruộng"

    def __str__(self):
        return f"Phiếu {self.surveyed_on:%d/%m/%Y} — {self.commune}"


class SurveyObservation(models.Model):
    """What one survey found for one organism (a pest, a disease or a natural enemy)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="observations", verbose_name="phiếu")
    organism = models.ForeignKey(Organism, on_delete=models.PROTECT, related_name="+", verbose_name="sinh vật")
    density_per_m2 = models.DecimalField("mật độ (con/m²)", max_digits=10, decimal_places=2, null=True, blank=True)
    infestation_pct = models.DecimalField("tỷ lệ hại (%)", max_digits=5, decimal_places=2, null=True, blank=True)
    stage_of_pest = models.CharField("tuổi, pha phát triển", max_length=60, blank=True)

    class Meta:
        verbose_name = "kết quả điều tra"
        verbose_name_plural = "kết quả điều tra"
        constraints = [models.UniqueConstraint(fields=["survey", "organism"], name="pests_observation_once")]

    def __str__(self):
        return str(self.organism)


class Alert(models.Model):
    """A threshold crossed in a commune: the rule, the value and the data behind it."""

    class Status(models.TextChoices):
        OPEN = "open", "Đang cảnh báo"
        ACKNOWLEDGED = "acknowledged", "Đã tiếp nhận"
        CLOSED = "closed", "Đã kết thúc"

    class Level(models.TextChoices):
        WARN = "warn", "Cảnh báo"
        ACTION = "action", "Cần phòng trừ"

    threshold = models.ForeignKey(Threshold, on_delete=models.PROTECT, related_name="alerts", verbose_name="ngưỡng")
    organism = models.ForeignKey(Organism, on_delete=models.PROTECT, related_name="alerts", verbose_name="sinh vật")
    commune = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="xã, phường")
    level = models.CharField("mức", max_length=10, choices=Level.choices)
    value = models.DecimalField("giá trị đo", max_digits=12, decimal_places=2)
    period_start = models.DateField("từ ngày")
    period_end = models.DateField("đến ngày")
    evidence = models.JSONField("số liệu căn cứ", default=dict)  # stations, messages or surveys, values
    status = models.CharField("trạng thái", max_length=15, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("phát lúc", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "cảnh báo sinh vật gây hại"
        verbose_name_plural = "cảnh báo sinh vật gây hại"
        constraints = [
            models.UniqueConstraint(
                fields=["threshold", "commune", "period_start", "level"], name="pests_alert_once_a_period"
            )
        ]

    def __str__(self):
        return f"{self.organism} — {self.commune} ({self.get_level_display()})"


class Bulletin(models.Model):
    """A weekly pest-situation bulletin (thông báo tình hình sinh vật gây hại) of an area."""

    # Numbered per issuing agency and year ("12/TB-TTBVTV" recurs across agencies and years).
    number = models.CharField("số", max_length=60)
    issuer = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="cơ quan ban hành"
    )
    area = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="địa bàn")
    week_start = models.DateField("từ ngày")
    week_end = models.DateField("đến ngày")
    content = models.JSONField("nội dung", default=dict)  # the figures the documents were made from
    docx = models.ForeignKey(
        "core.StoredFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="tệp DOCX"
    )
    pdf = models.ForeignKey(
        "core.StoredFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="tệp PDF"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="người lập",
    )
    created_at = models.DateTimeField("lập lúc", auto_now_add=True)

    class Meta:
        ordering = ["-week_start", "-id"]
        verbose_name = "thông báo tình hình sinh vật gây hại"
        verbose_name_plural = "thông báo tình hình sinh vật gây hại"
        constraints = [models.UniqueConstraint(fields=["area", "week_start"], name="pests_bulletin_once_a_week")]

    def __str__(self):
        return f"Thông báo số {self.number}"


class Subscription(models.Model):
    """A farmer's or commune officer's subscription to warnings for a commune, on one channel."""

    class Channel(models.TextChoices):
        SMS = "sms", "Tin nhắn SMS"
        CHAT = "chat", "Kênh nhắn tin (Zalo OA)"

    commune = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="xã, phường")
    channel = models.CharField("kênh", max_length=10, choices=Channel.choices)
    address = models.CharField("số điện thoại hoặc mã người nhận", max_length=120)
    name = models.CharField("tên người nhận", max_length=150, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="tài khoản",
    )
    unsubscribe_token = models.CharField("mã hủy đăng ký", max_length=64, unique=True, editable=False)
    active = models.BooleanField("đang nhận", default=True)
    # Double opt-in: a code sent on the channel must be typed back; until then no warnings (active False).
    confirmed_at = models.DateTimeField("xác nhận lúc", null=True, blank=True)
    confirm_attempts = models.PositiveSmallIntegerField("số lần nhập sai mã", default=0)
    created_at = models.DateTimeField("đăng ký lúc", auto_now_add=True)
    ended_at = models.DateTimeField("hủy lúc", null=True, blank=True)

    class Meta:
        verbose_name = "đăng ký nhận cảnh báo"
        verbose_name_plural = "đăng ký nhận cảnh báo"
        constraints = [
            models.UniqueConstraint(
                fields=["commune", "channel", "address"],
                condition=models.Q(active=True),
                name="pests_subscription_once",
            )
        ]

    def __str__(self):
        return f"{self.get_channel_display()} — {self.commune}"


class Identification(models.Model):
    """A farmer's request to identify what is on their field from one or more photos."""

    class Status(models.TextChoices):
        ANSWERED = "answered", "Đã trả lời"
        ABSTAINED = "abstained", "Chưa chắc, đã gửi chuyên gia"
        CONFIRMED = "confirmed", "Chuyên gia đã xác nhận"

    public_id = models.UUIDField("mã tra cứu", unique=True)
    client_id = models.UUIDField("mã gửi trên máy", unique=True, null=True, blank=True)
    farmer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="nông dân",
    )
    commune = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="xã, phường"
    )
    crop = models.ForeignKey(
        Crop, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="cây trồng"
    )
    status = models.CharField("trạng thái", max_length=10, choices=Status.choices)
    answer = models.ForeignKey(
        Organism, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="kết quả nhận dạng"
    )
    confidence = models.FloatField("độ tin cậy", null=True, blank=True)
    top = models.JSONField("các khả năng", default=list)  # [{"organism": code, "confidence": 0.8}, …] top 3
    model_version = models.CharField("mô hình", max_length=80)  # name + the first 12 hex of its SHA-256
    seconds = models.FloatField("thời gian nhận dạng (giây)", default=0)
    sent_to_expert = models.BooleanField("đã gửi chuyên gia", default=False)
    # The model's own verdict, kept after an expert confirms (accuracy counts abstentions per model).
    abstained = models.BooleanField("mô hình chưa chắc chắn", default=False)
    # Only when the farmer ticked "text me the expert's answer"; cleared once that SMS is queued.
    phone = models.CharField("số điện thoại nhận tin trả lời", max_length=20, blank=True)
    created_at = models.DateTimeField("gửi lúc", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "yêu cầu nhận dạng qua ảnh"
        verbose_name_plural = "yêu cầu nhận dạng qua ảnh"

    def __str__(self):
        return f"Nhận dạng {self.public_id}"


class IdentificationPhoto(models.Model):
    """One photo of a request, with what the model said about it and the expert's label."""

    identification = models.ForeignKey(
        Identification, on_delete=models.CASCADE, related_name="photos", verbose_name="yêu cầu"
    )
    file = models.ForeignKey("core.StoredFile", on_delete=models.PROTECT, related_name="+", verbose_name="ảnh")
    top = models.JSONField("các khả năng", default=list)
    label = models.ForeignKey(
        Organism, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="chuyên gia xác nhận"
    )
    label_none = models.BooleanField("chuyên gia: không có sinh vật gây hại", default=False)
    labelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="chuyên gia",
    )
    labelled_at = models.DateTimeField("xác nhận lúc", null=True, blank=True)

    class Meta:
        verbose_name = "ảnh nhận dạng"
        verbose_name_plural = "ảnh nhận dạng"

    def __str__(self):
        return f"Ảnh {self.pk} của {self.identification_id}"

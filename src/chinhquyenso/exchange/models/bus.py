"""The data bus (trục liên thông, LGSP): who is on it, what they offer, who may call what, and what
passed (docs/data-bus.md).

Identifiers follow X-Road: a member is `<instance>/<class>/<code>`, a subsystem
`<instance>/<class>/<member>/<subsystem>`, a service `<subsystem id>/<service code>`. A call is
addressed `/r1/<service id>/<path>` and names its client subsystem in the `X-Road-Client` header."""

from django.conf import settings
from django.db import models


class BusMember(models.Model):
    """A member of the bus: an agency of the province, a ministry's system, a national platform."""

    class MemberClass(models.TextChoices):
        GOV = "GOV", "Cơ quan nhà nước"
        COM = "COM", "Doanh nghiệp"
        ORG = "ORG", "Tổ chức khác"

    instance = models.CharField("vùng trục", max_length=20, help_text="VN: trục liên thông quốc gia (NDXP).")
    member_class = models.CharField("loại thành viên", max_length=3, choices=MemberClass.choices)
    code = models.CharField("mã thành viên", max_length=60, help_text="Mã định danh điện tử của cơ quan, tổ chức.")
    name = models.CharField("tên thành viên", max_length=300)
    agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="cơ quan trong tỉnh",
        help_text="Để trống với tổ chức ngoài tỉnh (bộ, ngành, nền tảng quốc gia).",
    )
    active = models.BooleanField("đang hoạt động", default=True)

    class Meta:
        verbose_name = "thành viên trục liên thông"
        verbose_name_plural = "thành viên trục liên thông"
        constraints = [
            models.UniqueConstraint(fields=["instance", "member_class", "code"], name="bus_member_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.identifier})"

    @property
    def identifier(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.code}"


class BusSubsystem(models.Model):
    """A system of a member (a client, a provider of services, or both). A provider answers at its
    address: `base_url`, unless `address_setting` names a CQS setting holding the real endpoint
    (the switch from the local simulator to the real system is configuration, never code). A local
    subsystem is served inside this installation by the handlers apps register
    (core.registry.BUS_HANDLERS)."""

    member = models.ForeignKey(
        BusMember, on_delete=models.CASCADE, related_name="subsystems", verbose_name="thành viên"
    )
    code = models.CharField("mã hệ thống", max_length=60)
    name = models.CharField("tên hệ thống", max_length=300)
    local = models.BooleanField("chạy trong hệ thống này", default=False)
    base_url = models.CharField("địa chỉ cung cấp dịch vụ", max_length=500, blank=True)
    address_setting = models.CharField(
        "tham số cấu hình địa chỉ",
        max_length=80,
        blank=True,
        help_text="Tên tham số CQS (biến môi trường CQS_…) chứa địa chỉ thật; khi có giá trị, dùng thay địa chỉ trên.",
    )
    certificate = models.TextField(
        "chứng thư số (PEM)",
        blank=True,
        help_text="Chứng thư của hệ thống khi gọi vào trục: mỗi yêu cầu được ký bằng khóa bí mật tương ứng.",
    )
    active = models.BooleanField("đang hoạt động", default=True)

    class Meta:
        verbose_name = "hệ thống thành viên"
        verbose_name_plural = "hệ thống thành viên"
        constraints = [models.UniqueConstraint(fields=["member", "code"], name="bus_subsystem_unique")]

    def __str__(self):
        return f"{self.name} ({self.identifier})"

    @property
    def identifier(self) -> str:
        return f"{self.member.identifier}/{self.code}"


class BusService(models.Model):
    """A REST service a subsystem offers, in one version; its operations are BusOperation rows."""

    subsystem = models.ForeignKey(
        BusSubsystem, on_delete=models.CASCADE, related_name="services", verbose_name="hệ thống cung cấp"
    )
    code = models.CharField("mã dịch vụ", max_length=80)
    version = models.CharField("phiên bản", max_length=20, default="v1")
    name = models.CharField("tên dịch vụ", max_length=300)
    description = models.TextField("mô tả", blank=True)
    timeout_seconds = models.FloatField("thời gian chờ tối đa (giây)", default=5)
    active = models.BooleanField("đang hoạt động", default=True)

    class Meta:
        verbose_name = "dịch vụ trên trục"
        verbose_name_plural = "dịch vụ trên trục"
        constraints = [
            models.UniqueConstraint(fields=["subsystem", "code", "version"], name="bus_service_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.code} {self.version})"

    @property
    def identifier(self) -> str:
        """`<subsystem id>/<code>` — the version is a property of the registered service, not of its address."""
        return f"{self.subsystem.identifier}/{self.code}"


class BusOperation(models.Model):
    """One operation of a service: a method and a path template (`/persons/{id}`), with the JSON
    Schemas of its request and response bodies (our adapter contract, shipped in the repository)."""

    class Method(models.TextChoices):
        GET = "GET", "GET"
        POST = "POST", "POST"
        PUT = "PUT", "PUT"
        PATCH = "PATCH", "PATCH"
        DELETE = "DELETE", "DELETE"

    service = models.ForeignKey(BusService, on_delete=models.CASCADE, related_name="operations", verbose_name="dịch vụ")
    code = models.CharField("mã thao tác", max_length=80)
    name = models.CharField("tên thao tác", max_length=300)
    method = models.CharField("phương thức", max_length=6, choices=Method.choices)
    path = models.CharField("đường dẫn", max_length=300, help_text="Mẫu đường dẫn, ví dụ /persons/{id}.")
    request_schema = models.JSONField("lược đồ dữ liệu gửi (JSON Schema)", default=dict, blank=True)
    response_schema = models.JSONField("lược đồ dữ liệu trả về (JSON Schema)", default=dict, blank=True)

    class Meta:
        verbose_name = "thao tác của dịch vụ"
        verbose_name_plural = "thao tác của dịch vụ"
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="bus_operation_code_unique"),
            models.UniqueConstraint(fields=["service", "method", "path"], name="bus_operation_route_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.method} {self.path})"


class BusAccessRight(models.Model):
    """A client subsystem may call a service — every operation, or the one named."""

    client = models.ForeignKey(
        BusSubsystem, on_delete=models.CASCADE, related_name="access_rights", verbose_name="hệ thống được gọi"
    )
    service = models.ForeignKey(
        BusService, on_delete=models.CASCADE, related_name="access_rights", verbose_name="dịch vụ"
    )
    operation = models.ForeignKey(
        BusOperation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access_rights",
        verbose_name="thao tác",
        help_text="Để trống: được gọi mọi thao tác của dịch vụ.",
    )
    granted_at = models.DateTimeField("cấp quyền lúc", auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người cấp quyền",
    )
    note = models.CharField("căn cứ cấp quyền", max_length=300, blank=True)

    class Meta:
        verbose_name = "quyền gọi dịch vụ"
        verbose_name_plural = "quyền gọi dịch vụ"
        constraints = [
            models.UniqueConstraint(fields=["client", "service", "operation"], name="bus_access_unique"),
            models.UniqueConstraint(
                fields=["client", "service"],
                condition=models.Q(operation__isnull=True),
                name="bus_access_whole_service_unique",
            ),
        ]

    def __str__(self):
        return f"{self.client} → {self.service}{f' / {self.operation.code}' if self.operation_id else ''}"


class BusLogEntry(models.Model):
    """One call that passed the bus — or was refused at it — with both bodies. Entries form a hash
    chain (`prev_hash` → `entry_hash`) sealed in signed batches (BusLogSeal); bodies may hold
    personal data and are shown only to auditors, each reading audited (docs/data-bus.md)."""

    class Outcome(models.TextChoices):
        OK = "ok", "Thành công"
        REFUSED = "refused", "Bị từ chối tại trục"
        REMOTE_ERROR = "remote_error", "Hệ thống cung cấp báo lỗi"
        TIMEOUT = "timeout", "Quá thời gian chờ"
        UNREACHABLE = "unreachable", "Không kết nối được"
        CIRCUIT_OPEN = "circuit_open", "Tạm ngắt (hệ thống cung cấp đang lỗi)"

    seq = models.BigIntegerField("số thứ tự", unique=True)
    at = models.DateTimeField("thời điểm")
    message_id = models.CharField("mã thông điệp", max_length=64, db_index=True)
    client = models.CharField("hệ thống gọi", max_length=300)
    service = models.CharField("dịch vụ", max_length=300)
    operation = models.CharField("thao tác", max_length=80, blank=True)
    method = models.CharField("phương thức", max_length=8, blank=True)
    status = models.PositiveSmallIntegerField("mã trạng thái HTTP", null=True, blank=True)
    outcome = models.CharField("kết quả", max_length=20, choices=Outcome.choices)
    error_code = models.CharField("mã lỗi", max_length=60, blank=True)
    duration_ms = models.FloatField("thời gian xử lý (ms)", default=0)
    asynchronous = models.BooleanField("gửi qua hàng đợi", default=False)
    idempotency_key = models.CharField("khóa chống xử lý trùng", max_length=200, blank=True)
    correlation = models.CharField("hồ sơ liên quan", max_length=80, blank=True)
    request_hash = models.CharField("mã băm nội dung gửi", max_length=64, blank=True)
    response_hash = models.CharField("mã băm nội dung trả về", max_length=64, blank=True)
    # The bodies themselves (personal data: readable by auditors only, never written to plain logs).
    request_body = models.TextField("nội dung gửi", blank=True)
    response_body = models.TextField("nội dung trả về", blank=True)
    prev_hash = models.CharField("mã băm bản ghi trước", max_length=64)
    entry_hash = models.CharField("mã băm bản ghi", max_length=64)

    class Meta:
        verbose_name = "nhật ký thông điệp trên trục"
        verbose_name_plural = "nhật ký thông điệp trên trục"
        indexes = [
            models.Index(fields=["service", "at"], name="buslog_service_at"),
            models.Index(fields=["client", "at"], name="buslog_client_at"),
            models.Index(fields=["at"], name="buslog_at"),
            models.Index(fields=["correlation"], name="buslog_correlation"),
            # An auditor's usual question, "what failed at service S that week": only the failures (a few
            # per cent of calls), so the index costs little on the write path (docs/benchmarks.md).
            models.Index(fields=["service", "at"], condition=~models.Q(outcome="ok"), name="buslog_service_failures"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.client} → {self.service}"


class BusLogHead(models.Model):
    """The chain's head (one row): locked by each append, so entries get consecutive numbers."""

    seq = models.BigIntegerField("số thứ tự cuối", default=0)
    hash = models.CharField("mã băm cuối", max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "đầu chuỗi nhật ký trục"
        verbose_name_plural = "đầu chuỗi nhật ký trục"

    def __str__(self):
        return f"#{self.seq}"


class BusLogSeal(models.Model):
    """A signed statement that entries first_seq…last_seq end with `last_hash`, made at `sealed_at`
    with the bus's key (not in the database); a copy is appended to the seal files."""

    first_seq = models.BigIntegerField("từ bản ghi")
    last_seq = models.BigIntegerField("đến bản ghi", unique=True)
    last_hash = models.CharField("mã băm bản ghi cuối", max_length=64)
    sealed_at = models.DateTimeField("thời điểm niêm phong")
    key_id = models.CharField("mã khóa ký", max_length=100)
    signature = models.TextField("chữ ký")
    # The first 16 hex digits of each covered entry's hash, in order (signed with the rest): a chain
    # rewritten and re-hashed is pinned to its first changed entry, not only to the seal.
    fingerprints = models.TextField("dấu vân tay các bản ghi", blank=True)
    timestamp_token = models.TextField("dấu thời gian (RFC 3161, base64)", blank=True)

    class Meta:
        verbose_name = "niêm phong nhật ký trục"
        verbose_name_plural = "niêm phong nhật ký trục"
        ordering = ["last_seq"]

    def __str__(self):
        return f"#{self.first_seq}–{self.last_seq}"


class BusLogArchive(models.Model):
    """Entries moved out of the database into a file (retention): the chain goes on from `last_hash`."""

    file_name = models.CharField("tệp lưu trữ", max_length=300, unique=True)
    first_seq = models.BigIntegerField("từ bản ghi")
    last_seq = models.BigIntegerField("đến bản ghi", unique=True)
    first_prev_hash = models.CharField("mã băm trước bản ghi đầu", max_length=64)
    last_hash = models.CharField("mã băm bản ghi cuối", max_length=64)
    entries = models.PositiveIntegerField("số bản ghi")
    sha256 = models.CharField("mã băm tệp", max_length=64)
    created_at = models.DateTimeField("lưu trữ lúc")

    class Meta:
        verbose_name = "tệp lưu trữ nhật ký trục"
        verbose_name_plural = "tệp lưu trữ nhật ký trục"
        ordering = ["first_seq"]

    def __str__(self):
        return self.file_name


class BusCircuit(models.Model):
    """The circuit breaker of one remote service, shared by every process through the database."""

    class State(models.TextChoices):
        CLOSED = "closed", "Bình thường"
        OPEN = "open", "Tạm ngắt"
        HALF_OPEN = "half_open", "Đang thử lại"

    service = models.CharField("dịch vụ", max_length=300, unique=True)
    state = models.CharField("trạng thái", max_length=10, choices=State.choices, default=State.CLOSED)
    failures = models.PositiveIntegerField("số lỗi liên tiếp", default=0)
    opened_count = models.PositiveIntegerField("số lần ngắt liên tiếp", default=0)
    open_until = models.DateTimeField("ngắt đến", null=True, blank=True)
    last_error = models.CharField("lỗi gần nhất", max_length=300, blank=True)
    updated_at = models.DateTimeField("cập nhật lúc", null=True, blank=True)

    class Meta:
        verbose_name = "cầu dao dịch vụ trên trục"
        verbose_name_plural = "cầu dao dịch vụ trên trục"

    def __str__(self):
        return f"{self.service}: {self.get_state_display()}"


class BusNonce(models.Model):
    """A signed request's one-time id (`jti`), kept while its token is valid: a replay is refused."""

    client = models.CharField("hệ thống gọi", max_length=300)
    nonce = models.CharField("mã dùng một lần", max_length=100)
    expires_at = models.DateTimeField("hết hạn lúc", db_index=True)

    class Meta:
        verbose_name = "mã chống gửi lại yêu cầu"
        verbose_name_plural = "mã chống gửi lại yêu cầu"
        constraints = [models.UniqueConstraint(fields=["client", "nonce"], name="bus_nonce_unique")]

    def __str__(self):
        return self.nonce


class BusReceipt(models.Model):
    """A request a local service handled, by the client's idempotency key: a repeat gets the first
    answer and changes nothing (receivers honour idempotency keys; docs/data-bus.md)."""

    client = models.CharField("hệ thống gọi", max_length=300)
    service = models.CharField("dịch vụ", max_length=300)
    key = models.CharField("khóa chống xử lý trùng", max_length=200)
    request_hash = models.CharField("mã băm nội dung gửi", max_length=64)
    status = models.PositiveSmallIntegerField("mã trạng thái HTTP")
    response_body = models.TextField("nội dung trả về", blank=True)
    created_at = models.DateTimeField("thời điểm")

    class Meta:
        verbose_name = "yêu cầu đã xử lý"
        verbose_name_plural = "yêu cầu đã xử lý"
        constraints = [models.UniqueConstraint(fields=["client", "service", "key"], name="bus_receipt_unique")]

    def __str__(self):
        return self.key

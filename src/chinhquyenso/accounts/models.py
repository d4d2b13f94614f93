import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from chinhquyenso.org.models import Agency


class Role(models.TextChoices):
    COUNTER_OFFICER = "counter_officer", "Cán bộ một cửa"
    SPECIALIST = "specialist", "Chuyên viên thụ lý"
    LEADER = "leader", "Lãnh đạo"
    AGENCY_ADMIN = "agency_admin", "Quản trị cơ quan"
    CLERK = "clerk", "Văn thư"


# The roles a procedure's processing step may name: the one-stop workflow's. The văn thư (clerk) works on
# documents (the documents app), not on dossiers.
PROCESS_STEP_ROLES = (Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER, Role.AGENCY_ADMIN)


class GlobalRole(models.TextChoices):
    NONE = "", "—"
    PROVINCE_ADMIN = "province_admin", "Quản trị tỉnh"
    AUDITOR = "auditor", "Kiểm tra, giám sát (chỉ đọc)"
    IOC_OPERATOR = "ioc_operator", "Điều phối viên IOC"


class User(AbstractUser):
    class Kind(models.TextChoices):
        OFFICER = "officer", "Cán bộ, công chức"
        CITIZEN = "citizen", "Công dân"
        ORGANIZATION = "organization", "Tổ chức, doanh nghiệp"

    kind = models.CharField("loại tài khoản", max_length=20, choices=Kind.choices, default=Kind.OFFICER)
    full_name = models.CharField("họ và tên", max_length=150, blank=True)
    # Citizens: 12-digit citizen ID (CCCD); organizations: tax code. Unique when set.
    identity_number = models.CharField("số định danh / mã số thuế", max_length=14, blank=True, db_index=True)
    phone = models.CharField("số điện thoại", max_length=15, blank=True)
    global_role = models.CharField(
        "vai trò toàn tỉnh", max_length=20, choices=GlobalRole.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = "người dùng"
        verbose_name_plural = "người dùng"
        constraints = [
            models.UniqueConstraint(
                fields=["identity_number"], condition=~models.Q(identity_number=""), name="user_identity_number_unique"
            )
        ]

    @property
    def is_citizen(self) -> bool:
        return self.kind in (self.Kind.CITIZEN, self.Kind.ORGANIZATION)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class Membership(models.Model):
    """An officer's role in one agency; an officer may have several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name="người dùng")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="memberships", verbose_name="cơ quan")
    role = models.CharField("vai trò", max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "agency", "role"], name="membership_unique")]
        verbose_name = "phân công"
        verbose_name_plural = "phân công"

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.agency}"


class ApiToken(models.Model):
    """A system's credential, scoped to one agency. Only the SHA-256 of the
    secret is stored; the secret is shown once when issued."""

    name = models.CharField("tên hệ thống", max_length=100)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="api_tokens", verbose_name="cơ quan")
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name="tài khoản kỹ thuật",
        help_text="Tài khoản kỹ thuật đại diện cho hệ thống.",
    )
    key_prefix = models.CharField("đầu mã", max_length=8, db_index=True)
    key_hash = models.CharField("mã băm SHA-256 của khóa", max_length=64, unique=True)
    created_at = models.DateTimeField("thời điểm cấp", auto_now_add=True)
    revoked_at = models.DateTimeField("thời điểm thu hồi", null=True, blank=True)

    class Meta:
        verbose_name = "khóa API của hệ thống"
        verbose_name_plural = "khóa API của hệ thống"

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class LoginFailure(models.Model):
    """Failed sign-ins (and sign-ins being checked), in the database so every
    app process sees them; kept for the throttling window only
    (accounts.services.login)."""

    username_folded = models.CharField(max_length=150)
    # The caller's address (core.http.client_ip): limits are per address and per account from one address.
    ip = models.CharField(max_length=45, blank=True, default="")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "lần đăng nhập sai"
        verbose_name_plural = "lần đăng nhập sai"
        indexes = [
            models.Index(fields=["username_folded", "at"], name="loginfailure_user_at"),
            models.Index(fields=["ip", "at"], name="loginfailure_ip_at"),
        ]

    def __str__(self):
        return f"{self.username_folded} ({self.ip or 'không rõ địa chỉ'})"


class IdentityLink(models.Model):
    """A citizen account's link to an identity at an OpenID Connect provider (VNeID, the national
    public-service portal's SSO): the provider's issuer and its subject for that person. Made at the
    first sign-in through the provider (accounts.services.sign_in_with_identity)."""

    issuer = models.CharField("nhà cung cấp định danh (issuer)", max_length=255)
    subject = models.CharField("mã người dùng tại nhà cung cấp (sub)", max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identity_links", verbose_name="tài khoản")
    first_seen = models.DateTimeField("lần đăng nhập đầu", auto_now_add=True)
    last_seen = models.DateTimeField("lần đăng nhập gần nhất")

    class Meta:
        verbose_name = "liên kết định danh điện tử"
        verbose_name_plural = "liên kết định danh điện tử"
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="identitylink_issuer_subject")]

    def __str__(self):
        return f"{self.user} — {self.issuer}"


class PasswordLink(models.Model):
    """A one-time link for an officer to set a password: sent when the agency administrator
    registers the officer or resets the password. Only the SHA-256 of the secret in the link
    is stored; the link works once, until `expires_at`."""

    class Purpose(models.TextChoices):
        REGISTER = "register", "Tạo tài khoản"
        RESET = "reset", "Đặt lại mật khẩu"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_links", verbose_name="tài khoản")
    purpose = models.CharField("mục đích", max_length=10, choices=Purpose.choices)
    key_hash = models.CharField("mã băm SHA-256 của liên kết", max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="người cấp"
    )
    created_at = models.DateTimeField("thời điểm cấp", auto_now_add=True)
    expires_at = models.DateTimeField("hết hạn lúc")
    used_at = models.DateTimeField("đã dùng lúc", null=True, blank=True)

    class Meta:
        verbose_name = "liên kết đặt mật khẩu"
        verbose_name_plural = "liên kết đặt mật khẩu"

    def __str__(self):
        return f"{self.user} — {self.get_purpose_display()}"

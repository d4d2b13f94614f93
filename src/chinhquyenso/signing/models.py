"""Who signs, and where their key lives. Key material is never stored here: a PKCS#12 key is a file
path, a PKCS#11 key a token and label on a module, a remote key a subscriber id at the eSign gateway;
passphrases and PINs come from an environment variable or a file the operator controls
(docs/signatures.md)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

DEFAULT_PKCS11_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


class SigningKey(models.Model):
    class Purpose(models.TextChoices):
        AGENCY = "agency", "Chữ ký số của cơ quan (con dấu)"
        PERSONAL = "personal", "Chữ ký số cá nhân"

    class Kind(models.TextChoices):
        PKCS12 = "pkcs12", "Tệp khoá PKCS#12 (khoá phần mềm)"
        PKCS11 = "pkcs11", "Thiết bị ký PKCS#11 (USB token, HSM)"
        REMOTE = "remote", "Ký số từ xa (qua cổng eSign quốc gia)"

    agency = models.ForeignKey(
        "org.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signing_keys",
        verbose_name="cơ quan",
        help_text="Cơ quan sở hữu chữ ký số (chữ ký của cơ quan).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signing_keys",
        verbose_name="người ký",
        help_text="Lãnh đạo sở hữu chữ ký số cá nhân.",
    )
    purpose = models.CharField("mục đích", max_length=20, choices=Purpose.choices, default=Purpose.AGENCY)
    kind = models.CharField("loại khoá", max_length=20, choices=Kind.choices, default=Kind.PKCS12)
    key_path = models.CharField(
        "đường dẫn tệp PKCS#12", max_length=500, blank=True, help_text="Tệp .p12/.pfx trên máy chủ ký."
    )
    passphrase_env = models.CharField(
        "biến môi trường chứa mật khẩu/PIN",
        max_length=100,
        blank=True,
        help_text="Tên biến môi trường (không phải mật khẩu), ví dụ CQS_KY_SO_TU_PHAP.",
    )
    passphrase_file = models.CharField(
        "tệp chứa mật khẩu/PIN", max_length=500, blank=True, help_text="Đường dẫn tệp chỉ chứa mật khẩu hoặc PIN."
    )
    module_path = models.CharField("thư viện PKCS#11", max_length=500, blank=True, default=DEFAULT_PKCS11_MODULE)
    token_label = models.CharField("nhãn token", max_length=100, blank=True)
    key_label = models.CharField("nhãn khoá/chứng thư trên token", max_length=100, blank=True)
    remote_user_id = models.CharField(
        "mã thuê bao ký số từ xa", max_length=100, blank=True, help_text="Mã của người ký tại cổng eSign/nhà cung cấp."
    )
    signer_name = models.CharField("họ tên người ký", max_length=200, blank=True)
    signer_title = models.CharField("chức vụ", max_length=200, blank=True)
    seal_image_path = models.CharField(
        "ảnh con dấu (PNG)",
        max_length=500,
        blank=True,
        help_text="Ảnh con dấu nền trong suốt, dùng cho chữ ký của cơ quan.",
    )
    certificate_fingerprint = models.CharField(
        "dấu vân tay chứng thư (SHA-256)", max_length=64, blank=True, editable=False
    )
    certificate_subject = models.CharField("chủ thể chứng thư", max_length=500, blank=True, editable=False)
    certificate_expires_at = models.DateTimeField("chứng thư hết hạn", null=True, blank=True, editable=False)
    checked_at = models.DateTimeField("kiểm tra lần cuối", null=True, blank=True, editable=False)
    valid_from = models.DateField("dùng từ ngày", null=True, blank=True)
    valid_until = models.DateField("dùng đến ngày", null=True, blank=True)
    active = models.BooleanField("đang dùng", default=True)
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    updated_at = models.DateTimeField("sửa lúc", auto_now=True)

    class Meta:
        verbose_name = "khoá ký số"
        verbose_name_plural = "khoá ký số"
        ordering = ["agency_id", "user_id", "-active", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency"],
                condition=Q(active=True, purpose="agency"),
                name="signing_one_active_agency_key",
                violation_error_message="Cơ quan này đã có một khoá ký số đang dùng; hãy ngừng khoá cũ trước.",
            ),
            models.CheckConstraint(
                condition=(Q(purpose="agency") & Q(agency__isnull=False))
                | (Q(purpose="personal") & Q(user__isnull=False)),
                name="signing_key_has_owner",
                violation_error_message="Chữ ký của cơ quan cần chọn cơ quan; chữ ký cá nhân cần chọn người ký.",
            ),
        ]

    def __str__(self) -> str:
        owner = self.agency or self.user
        return f"{self.get_purpose_display()} — {owner} ({self.get_kind_display()})"

    def clean(self):
        super().clean()
        errors = {}
        if self.kind == self.Kind.PKCS12 and not self.key_path:
            errors["key_path"] = "Khoá PKCS#12 cần đường dẫn tệp .p12/.pfx."
        if self.kind == self.Kind.PKCS11:
            if not self.module_path:
                errors["module_path"] = "Khoá PKCS#11 cần đường dẫn thư viện PKCS#11."
            if not self.token_label:
                errors["token_label"] = "Khoá PKCS#11 cần nhãn token."
            if not self.key_label:
                errors["key_label"] = "Khoá PKCS#11 cần nhãn khoá hoặc chứng thư."
        if self.kind == self.Kind.REMOTE and not self.remote_user_id:
            errors["remote_user_id"] = "Ký số từ xa cần mã thuê bao của người ký."
        if self.kind in (self.Kind.PKCS12, self.Kind.PKCS11) and not (self.passphrase_env or self.passphrase_file):
            errors["passphrase_env"] = "Cần tên biến môi trường hoặc tệp chứa mật khẩu/PIN (không nhập mật khẩu ở đây)."
        if self.passphrase_env and not self.passphrase_env.replace("_", "").isalnum():
            errors["passphrase_env"] = "Tên biến môi trường chỉ gồm chữ, số và dấu gạch dưới."
        if self.purpose == self.Purpose.AGENCY and not self.agency_id:
            errors["agency"] = "Chữ ký của cơ quan cần chọn cơ quan."
        if self.purpose == self.Purpose.PERSONAL and not self.user_id:
            errors["user"] = "Chữ ký cá nhân cần chọn người ký."
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            errors["valid_until"] = "Ngày kết thúc phải sau ngày bắt đầu."
        if errors:
            raise ValidationError(errors)

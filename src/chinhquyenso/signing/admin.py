"""Province administrators declare the signing keys (where each key lives, never the key itself);
every change is audited. The passphrase or PIN is only named here (an environment variable or a
file), so the administration never shows or stores a secret."""

from django.contrib import admin

from chinhquyenso.core import audit
from chinhquyenso.signing.models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "purpose", "kind", "signer_name", "active", "certificate_expires_at", "checked_at"]
    list_filter = ["purpose", "kind", "active"]
    search_fields = ["agency__name", "signer_name", "certificate_fingerprint"]
    raw_id_fields = ["agency", "user"]
    readonly_fields = ["certificate_fingerprint", "certificate_subject", "certificate_expires_at", "checked_at"]
    fieldsets = [
        (None, {"fields": ["purpose", "agency", "user", "kind", "active", "valid_from", "valid_until"]}),
        ("Tệp PKCS#12", {"fields": ["key_path"]}),
        ("Thiết bị PKCS#11", {"fields": ["module_path", "token_label", "key_label"]}),
        ("Ký số từ xa", {"fields": ["remote_user_id"]}),
        ("Mật khẩu/PIN (chỉ nêu nơi lấy)", {"fields": ["passphrase_env", "passphrase_file"]}),
        ("Hình ảnh chữ ký", {"fields": ["signer_name", "signer_title", "seal_image_path"]}),
        (
            "Chứng thư (điền khi chạy cqs signing check-key)",
            {"fields": ["certificate_fingerprint", "certificate_subject", "certificate_expires_at", "checked_at"]},
        ),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=f"signing.signingkey.{'update' if change else 'create'}",
            obj=obj,
            agency_id=obj.agency_id,
            after={"fields": sorted(form.changed_data), "via": "admin"},
        )

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action="signing.signingkey.delete", obj=obj, agency_id=obj.agency_id)
        super().delete_model(request, obj)

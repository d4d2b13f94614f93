"""The province administrator's pages are Django's admin with Vietnamese
labels, open to accounts with the province-administrator role."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class ProvinceAdminSite(AdminSite):
    site_header = "Chính quyền số — Quản trị tỉnh"
    site_title = "Chính quyền số"
    index_title = "Danh mục thủ tục, cơ quan, người dùng, lịch làm việc"

    def has_permission(self, request):
        # Imported here: this module is loaded with the app registry, before models exist.
        from chinhquyenso.accounts.selectors import is_province_admin
        from chinhquyenso.core.registry import ADMIN_GRANTS

        user = request.user
        if is_province_admin(user):
            return True
        # An officer holding a grant an app opens the administration with (the plant-protection
        # department's catalog editors) gets in; each app's ModelAdmin shows them only its own models.
        return (
            user.is_active
            and user.is_authenticated
            and not user.is_citizen
            and any(user.has_perm(permission) for permission in ADMIN_GRANTS.values())
        )

    @property
    def login_form(self):
        # Imported here for the same reason; the form signs in through accounts.services.login.
        from chinhquyenso.accounts.admin_forms import AdminSignInForm

        return AdminSignInForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if getattr(form, "throttled", None):
            response.status_code = 429
            response["Retry-After"] = str(form.throttled.retry_after)
        return response


class ProvinceAdminConfig(AdminConfig):
    default_site = "chinhquyenso.accounts.admin_site.ProvinceAdminSite"

"""The province administrator's pages are Django's admin with Vietnamese
labels, open to accounts with the province-administrator role."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


def is_province_admin(user) -> bool:
    from chinhquyenso.accounts.models import GlobalRole

    return bool(user.is_active and (user.is_superuser or getattr(user, "global_role", "") == GlobalRole.PROVINCE_ADMIN))


class ProvinceAdminSite(AdminSite):
    site_header = "Chính quyền số — Quản trị tỉnh"
    site_title = "Chính quyền số"
    index_title = "Danh mục thủ tục, cơ quan, người dùng, lịch làm việc"

    def has_permission(self, request):
        return is_province_admin(request.user)


class ProvinceAdminConfig(AdminConfig):
    default_site = "chinhquyenso.core.admin_site.ProvinceAdminSite"

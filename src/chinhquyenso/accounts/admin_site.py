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

        return is_province_admin(request.user)


class ProvinceAdminConfig(AdminConfig):
    default_site = "chinhquyenso.accounts.admin_site.ProvinceAdminSite"

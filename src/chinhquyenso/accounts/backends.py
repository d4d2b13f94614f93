from django.contrib.auth.backends import ModelBackend

from chinhquyenso.accounts.selectors import is_province_admin


class ProvinceAdminBackend(ModelBackend):
    """The province administrator may manage every model in the admin; other
    officers' permissions come from their roles, not from Django permissions."""

    def has_perm(self, user_obj, perm, obj=None):
        return is_province_admin(user_obj) or super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        return is_province_admin(user_obj) or super().has_module_perms(user_obj, app_label)

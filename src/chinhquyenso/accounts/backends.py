from django.contrib.auth.backends import ModelBackend

from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.accounts.services import SIGN_IN_MARK


class ProvinceAdminBackend(ModelBackend):
    """The province administrator may manage every model in the admin; other
    officers' permissions come from their roles, not from Django permissions."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        # Every sign-in from a request goes through accounts.services.login (throttling, audit);
        # a view or form that called authenticate() itself would bypass it, so it fails loudly.
        if request is not None and not getattr(request, SIGN_IN_MARK, False):
            raise RuntimeError("Sign-in must go through chinhquyenso.accounts.services.login.")
        return super().authenticate(request, username=username, password=password, **kwargs)

    def has_perm(self, user_obj, perm, obj=None):
        return is_province_admin(user_obj) or super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        return is_province_admin(user_obj) or super().has_module_perms(user_obj, app_label)

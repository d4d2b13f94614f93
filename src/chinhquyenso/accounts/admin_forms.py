"""The admin site's sign-in form: the same service, limits and messages as
every other sign-in (accounts.services.login). A module of its own because
Django's auth forms need the models, which admin_site.py is loaded before."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from chinhquyenso.accounts import services
from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.core.errors import DomainError


class AdminSignInForm(AdminAuthenticationForm):
    throttled: services.LoginThrottled | None = None

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.login(self.request, username, password)
            except services.LoginThrottled as error:
                self.throttled = error  # the site answers 429 with Retry-After
                raise ValidationError(error.message, code="throttled") from None
            except DomainError as error:
                raise ValidationError(error.message, code="invalid_login") from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user):
        # Who may open the admin is the site's rule (has_permission), not Django's is_staff flag.
        if not is_province_admin(user):
            raise ValidationError("Tài khoản này không có quyền vào trang quản trị tỉnh.", code="forbidden")

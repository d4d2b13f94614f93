from django.conf import settings

from chinhquyenso.accounts import oidc
from chinhquyenso.accounts.models import Membership, Role
from chinhquyenso.accounts.selectors import is_ioc_operator, is_province_admin, sees_whole_province


def site(request):
    """What every page's header needs: the province and which menu to show."""
    user = request.user
    is_officer = user.is_authenticated and not user.is_citizen
    # One query for the officer's roles: whether they belong to an agency, and administer one.
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True)) if is_officer else set()
    province_admin = is_officer and is_province_admin(user)
    return {
        "province_name": settings.CQS["PROVINCE_NAME"],
        "is_officer": is_officer and bool(roles or sees_whole_province(user)),
        "is_province_admin": province_admin,
        # IOC operators without an agency: the feedback dispatch menu only.
        "is_ioc_operator": is_officer and is_ioc_operator(user),
        # The agency administrator's "Tài khoản cán bộ" page (backoffice.account_views).
        "manages_accounts": province_admin or Role.AGENCY_ADMIN in roles,
        # The sign-in page: the national identity's button, and whether citizens may use a password.
        "oidc_login": oidc.is_configured(),
        "oidc_provider": oidc.provider_name(),
        "citizen_password_login": settings.CQS.get("CITIZEN_PASSWORD_LOGIN", True),
    }

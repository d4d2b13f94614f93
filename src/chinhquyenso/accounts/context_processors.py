from django.conf import settings

from chinhquyenso.accounts.selectors import agency_ids, is_ioc_operator, is_province_admin, sees_whole_province


def site(request):
    """What every page's header needs: the province and which menu to show."""
    user = request.user
    is_officer = user.is_authenticated and not user.is_citizen
    return {
        "province_name": settings.CQS["PROVINCE_NAME"],
        "is_officer": is_officer and bool(agency_ids(user) or sees_whole_province(user)),
        "is_province_admin": is_officer and is_province_admin(user),
        # IOC operators without an agency: the feedback dispatch menu only.
        "is_ioc_operator": is_officer and is_ioc_operator(user),
    }

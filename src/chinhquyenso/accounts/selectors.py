"""Who may see and do what. Every operational selector scopes by these."""

from chinhquyenso.accounts.models import GlobalRole, Membership, Role, User


def agency_ids(user: User, roles: list[str] | None = None) -> set[int]:
    """Agencies the officer belongs to (optionally only in some roles)."""
    if not getattr(user, "pk", None) or user.is_citizen:
        return set()
    memberships = Membership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return set(memberships.values_list("agency_id", flat=True))


def own_agencies(user):
    from chinhquyenso.org.models import Agency

    return Agency.objects.filter(pk__in=agency_ids(user)).order_by("name")


def sees_whole_province(user: User) -> bool:
    return getattr(user, "global_role", "") in (GlobalRole.PROVINCE_ADMIN, GlobalRole.AUDITOR)


def is_province_admin(user) -> bool:
    return bool(
        getattr(user, "is_active", False)
        and (user.is_superuser or getattr(user, "global_role", "") == GlobalRole.PROVINCE_ADMIN)
    )


def is_ioc_operator(user: User) -> bool:
    """IOC operators (điều phối viên) see and dispatch every citizen report."""
    return getattr(user, "global_role", "") == GlobalRole.IOC_OPERATOR


def is_read_only(user: User) -> bool:
    return getattr(user, "global_role", "") == GlobalRole.AUDITOR and not agency_ids(user)


def has_role(user: User, agency_id: int, *roles: str) -> bool:
    return agency_id in agency_ids(user, list(roles) or None)


OFFICER_ROLES = [Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER, Role.AGENCY_ADMIN]

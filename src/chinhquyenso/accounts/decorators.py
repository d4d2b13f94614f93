"""The one gate of the officers' pages."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required

from chinhquyenso.accounts.selectors import agency_ids, sees_whole_province
from chinhquyenso.core.errors import PermissionDenied

OFFICERS_ONLY = "Trang này chỉ dành cho cán bộ, công chức có phân công tại cơ quan."


def is_officer(user) -> bool:
    """An officer with an agency, or the province administrator or auditor."""
    return not user.is_citizen and bool(agency_ids(user) or sees_whole_province(user))


def officer_required(view=None, *, allowed=is_officer, reason: str = OFFICERS_ONLY):
    """Signed-in officers only (`allowed(user)` decides who counts; citizens
    never do). Others get the Vietnamese 403 page with `reason`; what each
    officer sees inside is scoped by the selectors, and a domain error the view
    lets through becomes its page (core.middleware.DomainErrorPages)."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.is_citizen or not allowed(request.user):
                raise PermissionDenied(reason)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate

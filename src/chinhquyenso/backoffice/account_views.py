"""Officers' accounts, managed by the agency administrator (Role.AGENCY_ADMIN; the province
administrator everywhere): the list of the agency's officers, registering one, resetting a password;
and the public page where an officer sets a password through the one-time link they were sent."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.models import Role, User
from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.backoffice import account_services
from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.org.models import Agency

ADMINS_ONLY = "Trang này dành cho quản trị cơ quan (quản lý tài khoản cán bộ của cơ quan mình)."
PAGE_SIZE = 100


def manages_accounts(user) -> bool:
    return bool(accounts.administered_agency_ids(user))


def _agencies(user):
    return Agency.objects.filter(pk__in=accounts.administered_agency_ids(user)).order_by("name")


def _roles(user):
    return [(value, label) for value, label in Role.choices if value != Role.AGENCY_ADMIN or is_province_admin(user)]


@officer_required(allowed=manages_accounts, reason=ADMINS_ONLY)
def account_list(request):
    offset = params.offset(request.GET.get("tu"), "tu")
    rows = list(accounts.officers_of(request.user)[offset : offset + PAGE_SIZE + 1])
    return render(
        request,
        "backoffice/accounts.html",
        {
            "officers": rows[:PAGE_SIZE],
            "next_offset": offset + PAGE_SIZE if len(rows) > PAGE_SIZE else None,
            "agencies": _agencies(request.user)[:50],
        },
    )


@officer_required(allowed=manages_accounts, reason=ADMINS_ONLY)
def account_register(request):
    agencies = list(_agencies(request.user)[:500])
    values = {"agency": str(agencies[0].pk) if len(agencies) == 1 else "", "role": Role.SPECIALIST}
    errors = {}
    if request.method == "POST":
        values = {
            key: request.POST.get(key, "")[:150]
            for key in ("agency", "username", "full_name", "email", "phone", "role")
        }
        try:
            agency_id = params.integer(values["agency"], "agency", minimum=1)
            agency = next((a for a in agencies if a.pk == agency_id), None)
            if agency is None:
                raise DomainError("Hãy chọn cơ quan của cán bộ.", "agency")
            user, link = account_services.register_officer(
                actor=request.user,
                agency=agency,
                username=values["username"],
                full_name=values["full_name"],
                email=values["email"],
                phone=values["phone"],
                role=values["role"],
            )
        except DomainError as error:
            errors = {error.field or "form": error.message}
        else:
            messages.success(
                request,
                f"Đã tạo tài khoản “{user.username}” ({user.full_name}) — {Role(values['role']).label} tại "
                f"{agency.name}. Liên kết đặt mật khẩu đã được gửi đến {user.email}, dùng được một lần "
                f"đến {_when(link.expires_at)}.",
            )
            return redirect("backoffice:accounts")
    return render(
        request,
        "backoffice/accounts_register.html",
        {"agencies": agencies, "roles": _roles(request.user), "values": values, "errors": errors},
        status=400 if errors else 200,
    )


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M %d/%m/%Y")


def _managed_officer(request, pk: int) -> User:
    user = accounts.officers_of(request.user).filter(pk=pk).first()
    if user is None:
        raise NotFound("Không tìm thấy cán bộ này trong các cơ quan anh/chị quản trị.")
    return user


@officer_required(allowed=manages_accounts, reason=ADMINS_ONLY)
def account_reset(request, pk: int):
    """GET: the confirmation (resetting ends the officer's password at once); POST: do it."""
    if request.method != "POST":
        return render(request, "backoffice/accounts_reset.html", {"officer": _managed_officer(request, pk)})
    user, link = account_services.reset_officer_password(actor=request.user, user_id=pk)
    messages.success(
        request,
        f"Đã đặt lại mật khẩu của “{user.username}” ({user.full_name}): mật khẩu cũ không còn dùng được. "
        f"Liên kết đặt mật khẩu mới đã được gửi đến {user.email}, dùng được một lần đến {_when(link.expires_at)}.",
    )
    return redirect("backoffice:accounts")


LINK_SESSION_KEY = "cqs_password_link"


def open_password_link(request, secret: str):
    """The address in the e-mail: the secret moves into the session and the browser goes on to the
    form at an address without it, so no later log line (a 400, a 404) or Referer carries it."""
    request.session[LINK_SESSION_KEY] = secret[:100]
    return redirect("backoffice:set_password")


def set_password(request):
    """The officer's own page (no sign-in: the link they were sent is the proof)."""
    secret = request.session.get(LINK_SESSION_KEY, "")
    link = accounts.password_link(secret)
    errors = {}
    if request.method == "POST" and link is not None:
        try:
            accounts.set_password_with_link(
                secret=secret,
                password=request.POST.get("password", "")[:200],
                password_again=request.POST.get("password_again", "")[:200],
            )
        except DomainError as error:
            errors = {error.field or "password": error.message}
            link = accounts.password_link(secret)
        else:
            request.session.pop(LINK_SESSION_KEY, None)
            messages.success(request, "Đã đặt mật khẩu. Hãy đăng nhập bằng tên đăng nhập và mật khẩu mới.")
            return redirect("portal:login")
    return render(
        request,
        "backoffice/accounts_set_password.html",
        {"link": link, "errors": errors, "invalid": accounts.LINK_INVALID},
        status=404 if link is None else (400 if errors else 200),
    )

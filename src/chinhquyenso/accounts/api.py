import functools

from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.middleware.csrf import get_token
from django.views.decorators.csrf import ensure_csrf_cookie
from ninja import Router, Schema
from ninja.decorators import decorate_view
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from chinhquyenso.accounts import services
from chinhquyenso.accounts.selectors import agency_ids
from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.core.middleware import CSRF_MESSAGE, error_response

router = Router()


class BearerToken(HttpBearer):
    """`Authorization: Bearer cqs_…` — a system's API token, scoped to one agency."""

    def authenticate(self, request, token):
        user = services.user_for_token(token)
        if user is not None:
            request.user = user
        return user


class Session(SessionAuth):
    """Django's session. Whether someone is signed in is asked first: a request
    with no session is a 401, whatever its CSRF token (ninja's SessionAuth
    checks CSRF first and answers a stranger 403 "CSRF check Failed"). A
    signed-in session's write without a valid CSRF token is a 403."""

    def _get_key(self, request):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        if not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            error = PermissionDenied(CSRF_MESSAGE)
            error.code = "csrf"
            raise error
        return request.user


# Endpoints that need a user accept either a session or a token.
AUTH = [BearerToken(), Session()]


class LoginIn(Schema):
    username: str
    password: str


class MeOut(Schema):
    username: str
    full_name: str
    kind: str
    global_role: str
    agencies: list[int]


def me_out(user) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "kind": user.kind,
        "global_role": user.global_role,
        "agencies": sorted(agency_ids(user)),
    }


def json_body_with_csrf(run):
    """Session sign-in takes a JSON body and the CSRF token (X-CSRFToken), checked
    before the body is read: a form or text/plain post from another site (login
    CSRF) must not sign the browser into an account the attacker chose. Other
    session calls are checked by Session; token callers never sign in."""

    @functools.wraps(run)
    def checked(request, *args, **kwargs):
        if request.content_type != "application/json":
            message = "Nội dung đăng nhập phải là JSON (Content-Type: application/json)."
            return error_response(request, 415, message, field="body", code="unsupported_media_type")
        rejected = check_csrf(request)  # settings.CSRF_FAILURE_VIEW's JSON 403 (code "csrf")
        return rejected if rejected is not None else run(request, *args, **kwargs)

    return checked


class CsrfOut(Schema):
    csrf_token: str


@router.get("auth/csrf", response=CsrfOut, auth=None, summary="Mã chống giả mạo (CSRF) để đăng nhập")
@decorate_view(ensure_csrf_cookie)
def csrf(request):
    return {"csrf_token": get_token(request)}


@router.post("auth/login", response=MeOut, auth=None, summary="Đăng nhập (phiên)")
@decorate_view(json_body_with_csrf)
def login(request, payload: LoginIn):
    try:
        user = services.login(request, payload.username, payload.password)
    except services.LoginThrottled as error:
        response = error_response(request, error.status_code, error.message, field=error.field, code=error.code)
        response["Retry-After"] = str(error.retry_after)
        return response
    django_login(request, user)
    return me_out(user)


@router.post("auth/logout", auth=AUTH, summary="Đăng xuất")
def logout(request):
    django_logout(request)
    return {"detail": "Đã đăng xuất."}


@router.get("auth/me", response=MeOut, auth=AUTH, summary="Tài khoản đang đăng nhập")
def me(request):
    return me_out(request.auth)

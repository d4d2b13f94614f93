from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from ninja import Router, Schema
from ninja.security import HttpBearer, django_auth

from chinhquyenso.accounts import services
from chinhquyenso.accounts.selectors import agency_ids

router = Router()


class BearerToken(HttpBearer):
    """`Authorization: Bearer cqs_…` — a system's API token, scoped to one agency."""

    def authenticate(self, request, token):
        user = services.user_for_token(token)
        if user is not None:
            request.user = user
        return user


# Endpoints that need a user accept either a session or a token.
AUTH = [BearerToken(), django_auth]


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


@router.post("auth/login", response=MeOut, auth=None, summary="Đăng nhập (phiên)")
def login(request, payload: LoginIn):
    user = services.login(request, payload.username, payload.password)
    django_login(request, user)
    return me_out(user)


@router.post("auth/logout", auth=AUTH, summary="Đăng xuất")
def logout(request):
    django_logout(request)
    return {"detail": "Đã đăng xuất."}


@router.get("auth/me", response=MeOut, auth=AUTH, summary="Tài khoản đang đăng nhập")
def me(request):
    return me_out(request.auth)

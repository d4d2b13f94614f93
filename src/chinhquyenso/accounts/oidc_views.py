"""The two pages of the sign-in with the national identity (accounts.oidc): the start, which sends
the browser to the provider, and the callback the provider sends it back to."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as start_session
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from chinhquyenso.accounts import oidc, services
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.http import client_ip

NEXT_KEY = "cqs_oidc_next"


def _safe_next(request, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _failed(request, error: DomainError):
    return render(
        request,
        "accounts/oidc_failed.html",
        {"message": error.message, "provider": oidc.provider_name()},
        status=error.status_code,
    )


def start(request):
    """GET /dang-nhap/oidc/?next=… — to the provider's sign-in page (a link, not a form: the
    pages' Content-Security-Policy lets forms post only to the platform itself)."""
    request.session[NEXT_KEY] = _safe_next(request, request.GET.get("next", "")[:500])
    try:
        return oidc.begin(request, request.build_absolute_uri(reverse("portal:oidc_callback")))
    except DomainError as error:
        return _failed(request, error)


def callback(request):
    """GET /dang-nhap/oidc/callback/?code=…&state=… — verify, then sign the citizen in."""
    try:
        identity = oidc.complete(request)
        user = services.sign_in_with_identity(**identity, ip=client_ip(request)[:45], provider=oidc.provider_name())
    except DomainError as error:
        return _failed(request, error)
    next_url = _safe_next(request, request.session.pop(NEXT_KEY, ""))
    # A new session key (session fixation); the pending attempts' state goes with the old session's data.
    start_session(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return redirect(next_url or "portal:my_dossiers")

"""The CKAN Action API's one view: reads the call (GET query, JSON body, form or multipart upload)
and who makes it (an API token, never the session), runs the action (opendata.ckan) and answers
in CKAN's envelope. Errors are DomainErrors: the kernel writes CKAN's error envelope
(core.middleware.ckan_error)."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from chinhquyenso.accounts.services import user_for_token
from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.opendata import ckan

INVALID_TOKEN = "Khóa API không đúng hoặc đã bị thu hồi."


def _caller(request):
    """The API token's account, or None for an anonymous call. The session cookie is never read: a
    browser's signed-in session cannot act here, so cross-site requests (CSRF) have nothing to ride on."""
    header = request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key") or ""
    secret = header.strip()
    if secret[:7].lower() == "bearer ":
        secret = secret[7:].strip()
    if not secret:
        return None
    user = user_for_token(secret)
    if user is None or not user.is_active:
        raise PermissionDenied(INVALID_TOKEN)
    return user


def _parameters(request) -> dict:
    """The action's parameters: the query string, and over it a POST's JSON object or form fields. A key
    repeated in a query string (requests writes a list so: facet.field=a&facet.field=b) is a list."""
    values = {key: items[0] if len(items) == 1 else items for key, items in request.GET.lists()}
    if request.method != "POST":
        return values
    if request.content_type == "application/json":
        body = params.loads(request.body) if request.body.strip() else {}
        if not isinstance(body, dict):
            raise DomainError('Nội dung gửi lên phải là một đối tượng JSON (dạng {"khóa": giá trị}).', "body")
        values.update(body)
    else:
        values.update(request.POST.dict())
    return values


def _envelope(request, name: str, result) -> HttpResponse:
    site = settings.CQS["SITE_URL"].rstrip("/") or request.build_absolute_uri("/").rstrip("/")
    body = {"help": f"{site}/api/3/action/help_show?name={name}", "success": True, "result": result}
    return HttpResponse(json.dumps(body, ensure_ascii=False).encode(), content_type="application/json; charset=utf-8")


@csrf_exempt  # writes authenticate only by API token (_caller): there is no cookie to forge with
@require_http_methods(["GET", "POST"])
def action(request, name: str):
    entry = ckan.ACTIONS.get(name)
    if entry is None:
        raise DomainError(f"Yêu cầu không hợp lệ: API không có hành động “{name[:60]}”.", "action", code="bad_request")
    if entry.writes and request.method != "POST":
        raise DomainError(f"Hành động ghi dữ liệu “{name}” phải gửi bằng POST.", "action", code="bad_request")
    prefix = request.path[: len(request.path) - len(name)]
    call = ckan.Call(user=_caller(request), params=_parameters(request), files=request.FILES.dict(), prefix=prefix)
    return _envelope(request, name, entry.function(call))

"""Sign-in with the national identity: an OpenID Connect relying party (Authlib's Django client).

The provider (VNeID, or the national public-service portal's single sign-on) is found by its
discovery document, CQS["OIDC_DISCOVERY_URL"]; the client is CQS["OIDC_CLIENT_ID"] and
CQS["OIDC_CLIENT_SECRET"] (docs/operations.md, "Đăng nhập bằng VNeID (OpenID Connect)").

- `begin` sends the browser to the provider: authorization-code flow, PKCE (S256), a random
  `state` and `nonce` kept in the session (Authlib keeps them, one entry per attempt).
- `complete` runs on the callback (/dang-nhap/oidc/callback/): the `state` must be one this
  session started; the code is exchanged for tokens (with the PKCE verifier and the client's
  secret); the ID token is required, its signature checked against the provider's JWKS (fetched
  again once when it names an unknown key: the provider rotated its keys), its issuer, audience,
  expiry and nonce checked. Only then are its claims read: the citizen ID from
  CQS["OIDC_ID_CLAIM"], the name from CQS["OIDC_NAME_CLAIM"] (or from the userinfo endpoint when
  the ID token does not carry them).

Network calls happen here, outside any database transaction; the account is found, linked or
made afterwards by accounts.services.sign_in_with_identity. Every failure is a `SignInFailed`
with a Vietnamese message for the citizen; the technical reason goes to the log, never the tokens.
"""

from __future__ import annotations

import logging
import threading
import time

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from joserfc.errors import JoseError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.workflow import in_transaction

log = logging.getLogger(__name__)

NAME = "cqs_oidc"  # the session keys of pending attempts start with "_state_cqs_oidc_"
METADATA_SECONDS = 3600  # the discovery document and keys are fetched again after an hour
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"

_metadata: dict[str, dict] = {}
_lock = threading.Lock()


class SignInFailed(DomainError):
    """The sign-in through the provider did not succeed; `message` says so to the citizen."""

    status_code = 400

    def __init__(self, message: str, code: str = "oidc"):
        super().__init__(message, "", code=code)


def conf() -> dict:
    return settings.CQS


def provider_name() -> str:
    return conf().get("OIDC_PROVIDER_NAME") or "VNeID"


def is_configured() -> bool:
    return bool(conf().get("OIDC_DISCOVERY_URL") and conf().get("OIDC_CLIENT_ID"))


def forget_provider() -> None:
    """Drop the cached discovery documents and keys (tests; an operator's change of provider)."""
    with _lock:
        _metadata.clear()


def _client() -> DjangoOAuth2App:
    if in_transaction():
        raise RuntimeError("calls to the identity provider never run inside a database transaction")
    url = conf()["OIDC_DISCOVERY_URL"]
    with _lock:
        cached = dict(_metadata.get(url) or {})
    if cached and time.time() - cached.get("_loaded_at", 0) > METADATA_SECONDS:
        cached = {}
    return DjangoOAuth2App(
        DjangoIntegration(NAME),
        name=NAME,
        client_id=conf()["OIDC_CLIENT_ID"],
        client_secret=conf().get("OIDC_CLIENT_SECRET") or None,
        server_metadata_url=url,
        client_kwargs={
            "scope": conf().get("OIDC_SCOPES") or "openid",
            "code_challenge_method": "S256",
            "default_timeout": conf().get("OIDC_TIMEOUT_SECONDS", 10),
        },
        **cached,
    )


def _load(client: DjangoOAuth2App) -> dict:
    """The provider's metadata; its issuer must be the discovery URL's base (OIDC Discovery 4.3)."""
    metadata = client.load_server_metadata()
    url = conf()["OIDC_DISCOVERY_URL"]
    expected = url[: -len(DISCOVERY_SUFFIX)] if url.endswith(DISCOVERY_SUFFIX) else None
    if expected is not None and metadata.get("issuer", "").rstrip("/") != expected.rstrip("/"):
        log.error("OIDC discovery at %s names issuer %r", url, metadata.get("issuer"))
        raise _fail(UNAVAILABLE, "oidc_config")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not metadata.get(key):
            log.error("OIDC discovery at %s has no %s", url, key)
            raise _fail(UNAVAILABLE, "oidc_config")
    return metadata


def _remember(client: DjangoOAuth2App) -> None:
    with _lock:
        _metadata[conf()["OIDC_DISCOVERY_URL"]] = dict(client.server_metadata)


UNAVAILABLE = (
    "Hiện không kết nối được với {provider}. Vui lòng thử lại sau ít phút; nếu cần gấp, "
    "hãy nộp hồ sơ trực tiếp tại bộ phận một cửa."
)
NOT_COMPLETED = "Đăng nhập bằng {provider} chưa hoàn tất. Vui lòng bấm “Đăng nhập bằng {provider}” để thử lại."
REFUSED = "Thông tin đăng nhập nhận từ {provider} không hợp lệ nên không được chấp nhận. Vui lòng thử lại."
CANCELLED = "Bạn đã không đồng ý chia sẻ thông tin trên {provider}, nên chưa đăng nhập được."


def _fail(template: str, code: str) -> SignInFailed:
    return SignInFailed(template.format(provider=provider_name()), code=code)


def begin(request, redirect_uri: str):
    """The redirect to the provider's authorization page (state, nonce and PKCE verifier kept in the session)."""
    if not is_configured():
        raise SignInFailed("Chưa cấu hình đăng nhập bằng định danh điện tử quốc gia.", code="oidc_off")
    client = _client()
    try:
        _load(client)
        response = client.authorize_redirect(request, redirect_uri)
    except (requests.RequestException, ValueError, OAuthError) as error:
        log.warning("OIDC provider unreachable at sign-in start: %s", type(error).__name__)
        raise _fail(UNAVAILABLE, "oidc_unavailable") from None
    _remember(client)
    return response


def complete(request) -> dict:
    """Verify the provider's answer on the callback; returns the verified identity:
    {"issuer", "subject", "identity_number", "full_name", "phone"}."""
    if not is_configured():
        raise SignInFailed("Chưa cấu hình đăng nhập bằng định danh điện tử quốc gia.", code="oidc_off")
    if request.GET.get("error"):
        code = "oidc_cancelled" if request.GET["error"] == "access_denied" else "oidc_error"
        log.info("OIDC provider answered error %r", request.GET["error"][:100])
        raise _fail(CANCELLED if code == "oidc_cancelled" else REFUSED, code)
    state = request.GET.get("state", "")
    if not state or not request.GET.get("code"):
        raise _fail(NOT_COMPLETED, "oidc_state")
    # The state must name an attempt this browser's session started (Authlib raises otherwise).
    if not request.session.get(f"_state_{NAME}_{state}"):
        log.info("OIDC callback with an unknown state")
        raise _fail(NOT_COMPLETED, "oidc_state")
    client = _client()
    try:
        metadata = _load(client)
        token = client.authorize_access_token(request)
        if "id_token" not in token or "userinfo" not in token:
            # Authlib verifies the ID token only when there is one: without it there is nothing signed.
            log.warning("OIDC token answer without an ID token")
            raise _fail(REFUSED, "oidc_no_id_token")
        claims = dict(token["userinfo"])
        id_claim, name_claim = conf().get("OIDC_ID_CLAIM", "citizen_id"), conf().get("OIDC_NAME_CLAIM", "name")
        if (not claims.get(id_claim) or not claims.get(name_claim)) and metadata.get("userinfo_endpoint"):
            info = dict(client.userinfo(token=token))
            if info.get("sub") != claims.get("sub"):  # OIDC Core 5.3.2: the same person or nothing
                log.warning("OIDC userinfo for another subject")
                raise _fail(REFUSED, "oidc_userinfo")
            claims = {**info, **claims}
    except SignInFailed:
        raise
    except (requests.RequestException, ValueError) as error:
        log.warning("OIDC provider unreachable at callback: %s", type(error).__name__)
        raise _fail(UNAVAILABLE, "oidc_unavailable") from None
    except (OAuthError, JoseError) as error:
        log.warning("OIDC answer refused: %s %s", type(error).__name__, getattr(error, "description", "") or error)
        raise _fail(REFUSED, "oidc_invalid") from None
    _remember(client)
    return {
        "issuer": str(claims.get("iss") or metadata.get("issuer", "")),
        "subject": str(claims.get("sub", "")),
        "identity_number": str(claims.get(id_claim) or ""),
        "full_name": str(claims.get(name_claim) or ""),
        "phone": str(claims.get("phone_number") or ""),
    }

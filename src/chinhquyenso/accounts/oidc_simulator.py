"""A stand-in for VNeID's OpenID Connect provider, run as its own process (standard library and
joserfc only, no Django):

    python -m chinhquyenso.accounts.oidc_simulator --port 8791 --client-id cqs-demo --client-secret demo-secret

It prints `OIDC_SIMULATOR_URL=http://127.0.0.1:<port>` once it listens (`--port 0`: a free port). The
platform is pointed at it with CQS_OIDC_DISCOVERY_URL=<that URL>/.well-known/openid-configuration,
CQS_OIDC_CLIENT_ID and CQS_OIDC_CLIENT_SECRET (docs/national-systems.md, "VNeID").

What it does (an RSA key is generated at each start; nothing leaves the machine):

- `GET /.well-known/openid-configuration` — the discovery document (issuer = the simulator's URL).
- `GET /jwks` — the public key(s) that sign ID tokens (RS256, with a `kid`).
- `GET /authorize` — the authorization-code flow's page: checks the client, the redirect URI (one of
  `--redirect-uri`, or any http://127.0.0.1 / localhost address when none is given), `state`, `nonce`
  and a PKCE `code_challenge` (S256, required). It shows a small Vietnamese page where the tester
  types a 12-digit citizen ID, a full name and, optionally, a phone number, and clicks "Đồng ý"
  (or "Từ chối": back to the client with `error=access_denied`).
- `POST /token` — code → tokens: the client authenticates (HTTP Basic or form fields), the code is
  used once, within 60 seconds, with the same redirect URI, and the PKCE `code_verifier` must hash to
  the challenge. Answers `access_token`, `id_token` (iss, sub, aud, exp, iat, auth_time, nonce, at_hash,
  the citizen ID in the `--id-claim` claim, `name`) and `token_type`.
- `GET /userinfo` — the same claims for `Authorization: Bearer <access_token>`.

Test controls (not part of any real provider):

- `POST /faults` `{"kind": …, "times": 1}` — the next `times` token answers are wrong on purpose:
  `bad_signature` (signed with another key under the same `kid`), `tampered` (the citizen ID changed
  after signing), `wrong_nonce`, `wrong_audience`, `wrong_issuer`, `expired`, `no_id_token`; or
  `{"status": 503, "times": 1}`: the token endpoint answers that HTTP status.
- `POST /rotate-keys` — a new signing key with a new `kid` (the old one leaves the JWKS).
- `POST /reset` — forget codes, tokens and faults. `GET /health` — `{"ok": true}`.

The sub of a person is derived from the citizen ID and the simulator's issuer, so that a person
signing in twice gets the same sub, as with the real provider.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from chinhquyenso.core import simulators

CODE_SECONDS = 60
TOKEN_SECONDS = 600
CITIZEN_ID = re.compile(r"^\d{12}$")
FAULT_KINDS = {
    "bad_signature",
    "tampered",
    "wrong_nonce",
    "wrong_audience",
    "wrong_issuer",
    "expired",
    "no_id_token",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})


class Provider:
    """The simulator's state, shared by the request threads."""

    def __init__(
        self, *, client_id: str, client_secret: str, redirect_uris: list[str], id_claim: str, issuer: str = ""
    ):
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uris, self.id_claim = redirect_uris, id_claim
        self.issuer = issuer
        self.lock = threading.Lock()
        self.key = _new_key()
        self.requests: dict[str, dict] = {}  # pending authorization requests, by an id in the page
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}  # access token → claims
        self.faults: list[dict] = []

    # -- metadata -----------------------------------------------------------------------

    def discovery(self) -> dict:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "phone_number", self.id_claim],
        }

    def jwks(self) -> dict:
        with self.lock:
            return KeySet([self.key]).as_dict(private=False)

    def rotate(self) -> str:
        with self.lock:
            self.key = _new_key()
            return self.key.kid

    # -- authorization ------------------------------------------------------------------

    def redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")

    def check_authorize(self, query: dict) -> tuple[str | None, dict]:
        """(an error for the tester's page, or None, and the request's parameters)."""
        params = {k: v[0] for k, v in query.items()}
        if params.get("client_id") != self.client_id:
            return "Ứng dụng (client_id) không được đăng ký với nhà cung cấp định danh.", params
        if not self.redirect_allowed(params.get("redirect_uri", "")):
            return "Địa chỉ quay về (redirect_uri) không được đăng ký.", params
        if params.get("response_type") != "code":
            return "Chỉ hỗ trợ response_type=code.", params
        if "openid" not in params.get("scope", "").split():
            return "Thiếu phạm vi openid.", params
        if not params.get("state") or not params.get("nonce"):
            return "Thiếu state hoặc nonce.", params
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "Thiếu PKCE (code_challenge, phương thức S256).", params
        return None, params

    def remember_request(self, params: dict) -> str:
        request_id = secrets.token_urlsafe(16)
        with self.lock:
            self.requests[request_id] = {**params, "at": time.time()}
        return request_id

    def decide(self, form: dict) -> tuple[str, str | None]:
        """(the redirect back to the client, or "" with an error for the page)."""
        with self.lock:
            request = self.requests.pop(form.get("request", ""), None)
        if request is None or time.time() - request["at"] > 600:
            return "", "Yêu cầu đăng nhập đã hết hạn; hãy quay lại trang dịch vụ công và thử lại."
        back = request["redirect_uri"]
        joiner = "&" if "?" in back else "?"
        if form.get("decision") != "allow":
            return back + joiner + urlencode({"error": "access_denied", "state": request["state"]}), None
        citizen_id = form.get("citizen_id", "").replace(" ", "")
        name = " ".join(form.get("name", "").split())
        if not CITIZEN_ID.match(citizen_id) or not name:
            with self.lock:
                self.requests[form.get("request", "")] = request  # the tester corrects the page
            return "", "Hãy nhập số định danh cá nhân đủ 12 chữ số và họ tên."
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "client_id": request["client_id"],
                "redirect_uri": back,
                "nonce": request["nonce"],
                "challenge": request["code_challenge"],
                "citizen_id": citizen_id,
                "name": name,
                "phone": re.sub(r"\D", "", form.get("phone", "")),
                "at": time.time(),
            }
        return back + joiner + urlencode({"code": code, "state": request["state"]}), None

    # -- tokens -------------------------------------------------------------------------

    def _client_ok(self, headers, form: dict) -> bool:
        auth = headers.get("Authorization", "")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if auth.startswith("Basic "):
            try:
                from urllib.parse import unquote

                pair = base64.b64decode(auth[6:]).decode()
                client_id, _, secret = pair.partition(":")
                client_id, secret = unquote(client_id), unquote(secret)
            except ValueError:
                return False
        return secrets.compare_digest(client_id, self.client_id) and (
            not self.client_secret or secrets.compare_digest(secret, self.client_secret)
        )

    def subject(self, citizen_id: str) -> str:
        return hashlib.sha256(f"{self.issuer}|{citizen_id}".encode()).hexdigest()[:32]

    def token(self, headers, form: dict) -> tuple[int, dict]:
        with self.lock:
            fault = self.faults[0] if self.faults else None
            if fault:
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self.faults.pop(0)
        if fault and "status" in fault:
            return fault["status"], {"error": "temporarily_unavailable"}
        if not self._client_ok(headers, form):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)  # once only
        if grant is None or time.time() - grant["at"] > CODE_SECONDS:
            return 400, {"error": "invalid_grant", "error_description": "unknown, used or expired code"}
        if grant["client_id"] != self.client_id or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        verifier = form.get("code_verifier", "")
        if not verifier or _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access_token = secrets.token_urlsafe(32)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.subject(grant["citizen_id"]),
            "aud": self.client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + TOKEN_SECONDS,
            "nonce": grant["nonce"],
            "at_hash": _b64(hashlib.sha256(access_token.encode()).digest()[:16]),
            self.id_claim: grant["citizen_id"],
            "name": grant["name"],
        }
        if grant["phone"]:
            claims["phone_number"] = grant["phone"]
        userinfo = {k: claims[k] for k in ("sub", self.id_claim, "name", "phone_number") if k in claims}
        with self.lock:
            self.tokens[access_token] = userinfo
        kind = fault.get("kind") if fault else None
        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}
        if kind != "no_id_token":
            answer["id_token"] = self.sign(claims, kind)
        return 200, answer

    def sign(self, claims: dict, kind: str | None) -> str:
        claims = dict(claims)
        if kind == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-you-sent"
        elif kind == "wrong_audience":
            claims["aud"] = "another-client"
        elif kind == "wrong_issuer":
            claims["iss"] = "https://not-the-issuer.example"
        elif kind == "expired":
            claims["iat"] -= 3600
            claims["exp"] = claims["iat"] + 60
        with self.lock:
            key = self.key
        if kind == "bad_signature":  # another key, claiming to be the published one
            key = RSAKey.generate_key(2048, parameters={"kid": key.kid, "use": "sig", "alg": "RS256"})
        token = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)
        if kind == "tampered":  # someone edits the payload of a genuine token: the signature no longer fits
            header, _, signature = token.split(".")
            claims[self.id_claim] = "001099009999"
            payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
            token = f"{header}.{payload}.{signature}"
        return token

    def userinfo(self, headers) -> tuple[int, dict]:
        auth = headers.get("Authorization", "")
        with self.lock:
            claims = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if claims is None:
            return 401, {"error": "invalid_token"}
        return 200, claims

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.codes.clear()
            self.tokens.clear()
            self.faults.clear()


PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>VNeID (mô phỏng) — Đăng nhập</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a}}
label{{display:block;font-weight:600;margin-top:.8rem}}input{{font:inherit;width:100%;padding:.5rem;box-sizing:border-box}}
button{{font:inherit;padding:.6rem 1rem;margin:1rem .5rem 0 0;background:#a50000;color:#fff;border:0;border-radius:4px}}
button.khac{{background:#fff;color:#a50000;border:2px solid #a50000}}.loi{{color:#a50000;font-weight:600}}
.ghi-chu{{background:#fff4d6;padding:.5rem}}</style></head>
<body><main>
<h1>VNeID — đăng nhập (mô phỏng)</h1>
<p class="ghi-chu">Đây là máy mô phỏng nhà cung cấp định danh dùng để kiểm thử và trình diễn, không phải VNeID thật.</p>
<p>Ứng dụng <strong>{client}</strong> đề nghị được biết số định danh cá nhân và họ tên của bạn.</p>
{error}
<form method="post" action="/authorize">
<input type="hidden" name="request" value="{request}">
<label for="citizen_id">Số định danh cá nhân (12 chữ số)</label>
<input id="citizen_id" name="citizen_id" inputmode="numeric" autocomplete="off" value="{citizen_id}" required>
<label for="name">Họ và tên</label>
<input id="name" name="name" autocomplete="name" value="{name}" required>
<label for="phone">Số điện thoại (không bắt buộc)</label>
<input id="phone" name="phone" inputmode="tel" autocomplete="tel" value="{phone}">
<button type="submit" name="decision" value="allow">Đồng ý</button>
<button type="submit" name="decision" value="deny" class="khac">Từ chối</button>
</form>
</main></body></html>"""


def page(*, client: str, request: str, error: str = "", citizen_id="", name="", phone="") -> bytes:
    esc = html.escape
    return PAGE.format(
        client=esc(client),
        request=esc(request),
        error=f'<p class="loi" role="alert">{esc(error)}</p>' if error else "",
        citizen_id=esc(citizen_id),
        name=esc(name),
        phone=esc(phone),
    ).encode()


class Handler(BaseHTTPRequestHandler):
    provider: Provider  # set on the server's handler class

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _html(self, status: int, body: bytes) -> None:
        self._send(status, body, "text/html; charset=utf-8")

    def _redirect(self, location: str) -> None:
        self._send(302, b"", "text/plain", {"Location": location})

    def _raw(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self._raw().decode("utf-8", "replace")).items()}

    def _json_body(self):
        try:
            return json.loads(self._raw() or b"{}")
        except ValueError:
            return None

    def do_GET(self):
        url = urlsplit(self.path)
        provider = self.provider
        if url.path == "/.well-known/openid-configuration":
            return self._json(200, provider.discovery())
        if url.path == "/jwks":
            return self._json(200, provider.jwks())
        if url.path == "/userinfo":
            return self._json(*provider.userinfo(self.headers))
        if url.path == "/health":
            return self._json(200, {"ok": True})
        if url.path == "/authorize":
            error, params = provider.check_authorize(parse_qs(url.query))
            if error:
                return self._html(400, page(client=params.get("client_id", ""), request="", error=error))
            request = provider.remember_request(params)
            return self._html(200, page(client=params["client_id"], request=request))
        return self._json(404, {"error": "not_found"})

    def do_POST(self):
        path = urlsplit(self.path).path
        provider = self.provider
        if path == "/authorize":
            form = self._form()
            location, error = provider.decide(form)
            if error:
                body = page(
                    client=provider.client_id,
                    request=form.get("request", ""),
                    error=error,
                    citizen_id=form.get("citizen_id", ""),
                    name=form.get("name", ""),
                    phone=form.get("phone", ""),
                )
                return self._html(400, body)
            return self._redirect(location)
        if path == "/token":
            return self._json(*provider.token(self.headers, self._form()))
        payload = self._json_body()
        if not isinstance(payload, dict):
            return self._json(400, {"error": "body must be a JSON object"})
        if path == "/faults":
            fault = {"times": max(1, int(payload.get("times", 1)))}
            if "status" in payload:
                fault["status"] = int(payload["status"])
            elif payload.get("kind") in FAULT_KINDS:
                fault["kind"] = payload["kind"]
            else:
                return self._json(400, {"error": f"kind must be one of {sorted(FAULT_KINDS)} or status"})
            with provider.lock:
                provider.faults.append(fault)
            return self._json(200, {"ok": True})
        if path == "/rotate-keys":
            return self._json(200, {"kid": provider.rotate()})
        if path == "/reset":
            provider.reset()
            return self._json(200, {"ok": True})
        return self._json(404, {"error": "not_found"})

    def log_message(self, *args):  # citizen IDs and codes stay out of the console
        pass


def serve(provider: Provider, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"provider": provider})
    server = ThreadingHTTPServer((host, port), handler)
    if not provider.issuer:
        provider.issuer = f"http://{host}:{server.server_address[1]}"
    return server


def spawn(*args: str) -> tuple[subprocess.Popen, str]:
    """Start the simulator as its own process on a free port: (the process, its URL)."""
    return simulators.spawn("chinhquyenso.accounts.oidc_simulator", "OIDC_SIMULATOR", *args)


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="VNeID OpenID Connect provider simulator (docs/national-systems.md)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=simulators.DEFAULT_PORTS["OIDC_SIMULATOR"], help="0: a free port")
    parser.add_argument("--client-id", default=env("CQS_OIDC_CLIENT_ID") or "cqs-demo")
    parser.add_argument("--client-secret", default=env("CQS_OIDC_CLIENT_SECRET") or "cqs-demo-secret")
    parser.add_argument("--id-claim", default=env("CQS_OIDC_ID_CLAIM") or "citizen_id")
    parser.add_argument(
        "--redirect-uri", action="append", default=[], help="allowed redirect URI (repeat; none: any on 127.0.0.1)"
    )
    args = parser.parse_args(argv)
    provider = Provider(
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uris=args.redirect_uri,
        id_claim=args.id_claim,
    )
    server = serve(provider, args.host, args.port)
    simulators.serve_forever(server, "OIDC_SIMULATOR", provider.issuer)


if __name__ == "__main__":
    main(sys.argv[1:])

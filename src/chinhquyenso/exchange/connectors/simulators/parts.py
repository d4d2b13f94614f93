"""The interconnected-part protocol as a simulator engine (docs/national-systems.md, "Connectors"):
the residence (police), social-insurance and civil-status simulators are thin modules over it, each
run as its own process (standard library + PyJWT, no Django):

    python -m chinhquyenso.exchange.connectors.simulators.residence --port 0 \\
        --bus-url http://127.0.0.1:8000 --client-id VN/GOV/000.00.00.G06/cu-tru \\
        --key sim.key --cert sim.crt [--delay 1] [--bus-cert bus.crt]

The protocol (common to every system; the bus's registry files hold the JSON Schemas):

- `POST /requests` `{"reference", "procedure", "applicant", "subject", "data", "callback": {"service"}}`
  → 202 `{"request_id", "status": "received"}`. The same `Idempotency-Key` gets the same answer and
  no second request; so does the same `reference` while its request is not refused. A body that
  breaks the system's own rules → 422 `{"error", "field"}`.
- `GET /requests/{request_id}` → `{"request_id", "reference", "status", "reason", "result", "at"}`,
  status `received` → `processing` → `done` | `refused`; 404 when unknown.
- After `--delay` seconds the simulator calls the bus back: `POST <bus-url>/r1/<callback service>/
  parts/<reference>/status` with the same body as the status answer, first `processing`, then the
  outcome, signed (`X-Road-Signature`, ES256 JWT made with PyJWT and `--key`; the certificate's
  SHA-256 thumbprint in `x5t#S256`) as client `--client-id`; `Idempotency-Key:
  <request_id>:<status>`. Each callback is retried with back-off (0.2 s doubling to 10 s) until the
  bus answers 2xx; the outcome waits for "processing" to get through (they arrive in order).
- With `--bus-cert FILE` requests must carry the bus's own signed token (else 401).

Test controls (not part of any real system):

- `POST /_sim/outcome {"procedure", "status": "refused"|"done", "reason", "count", "callback": true}`:
  the next `count` requests of that procedure end that way (`callback: false`: the status changes,
  no callback is sent — for polling);
- `POST /_sim/fail {"count", "status": 503, "delay": 0}`: the next requests are answered so;
- `POST /_sim/resend {"request_id", "status", "new_key": false}`: send a callback again, once —
  the body first sent with that status (a duplicate; with an older status: out of order) under
  the same Idempotency-Key, or under a new key with `new_key: true` (so it reaches the handler
  rather than the bus's stored receipt); answers `{"status": <bus HTTP status>}`;
- `GET /_sim/requests` (every request received, oldest first), `GET /_sim/callbacks` (every callback
  attempt: request_id, reference, status, http_status), `GET /_sim/stats`, `POST /_sim/reset`.

Nothing about a request is written to the console (bodies carry personal data)."""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import re
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from chinhquyenso.core import simulators as core_simulators
from chinhquyenso.exchange.connectors.simulators import Handler, State, serve

VN = dt.timezone(dt.timedelta(hours=7))
FINAL = ("done", "refused")
ID12 = re.compile(r"^[0-9]{12}$")


def now() -> dt.datetime:
    return dt.datetime.now(VN).replace(microsecond=0)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(cert_pem: str) -> str:
    """base64url SHA-256 of the certificate's DER (JOSE `x5t#S256`)."""
    return b64url(hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert_pem)).digest())


def sign_request(key_pem: str, cert_pem: str, *, client: str, service: str, method: str, path: str, body: bytes) -> str:
    """The bus's request token (docs/data-bus.md, "Access"), made with PyJWT — independently of the
    bus's own code (joserfc), so a mistake in one does not hide in the other."""
    issued = int(time.time())
    claims = {
        "iss": client,
        "aud": service,
        "htm": method,
        "htu": path,
        "bh": b64url(hashlib.sha256(body).digest()),
        "iat": issued,
        "exp": issued + 120,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key_pem, algorithm="ES256", headers={"x5t#S256": thumbprint(cert_pem)})


def bus_post(
    bus_url: str, service: str, path: str, payload: dict, *, client: str, key_pem: str, cert_pem: str, key: str = ""
) -> tuple[int | None, str]:
    """POST `payload` to `<bus_url>/r1/<service><path>` as `client`, signed: (HTTP status or None, answer)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Road-Client": client,
        "X-Road-Signature": sign_request(
            key_pem, cert_pem, client=client, service=service, method="POST", path=path, body=body
        ),
    }
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(f"{bus_url.rstrip('/')}/r1/{service}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except OSError as error:
        return None, type(error).__name__


def verify_bus_token(token: str, cert_pem: str, *, method: str, path: str, body: bytes) -> bool:
    """Whether a request from the bus carries a valid token signed with the bus's certificate."""
    from cryptography import x509

    try:
        public = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
        claims = jwt.decode(
            token, public, algorithms=["ES256"], options={"verify_aud": False, "require": ["exp", "iat", "iss"]}
        )
    except (jwt.PyJWTError, ValueError):
        return False
    return (
        claims.get("htm") == method
        and claims.get("htu") == path
        and claims.get("bh") == b64url(hashlib.sha256(body).digest())
    )


# -- what each system adds: its procedures -------------------------------------------------------


@dataclass(frozen=True)
class Procedure:
    """One remote procedure: `check(body) -> (field, Vietnamese error) | None` (the system's own
    validation, answered 422), `decide(body, request_id) -> (status, reason, result)` (its outcome)."""

    title: str
    check: Callable[[dict], tuple[str, str] | None]
    decide: Callable[[dict, str], tuple[str, str, dict | None]]


def require(body: dict, *paths: str) -> tuple[str, str] | None:
    """The first of `paths` ("subject.birth_date") missing or empty in body: (field, message)."""
    for path in paths:
        value = body
        for name in path.split("."):
            value = value.get(name) if isinstance(value, dict) else None
        if value in (None, "", [], {}):
            return path, f"Thiếu thông tin bắt buộc: {path}."
    return None


def check_date(body: dict, path: str) -> tuple[str, str] | None:
    value = body
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return path, f"Ngày không hợp lệ (YYYY-MM-DD): {path}."
    return None


def check_id(body: dict, path: str) -> tuple[str, str] | None:
    value = body
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    if not ID12.match(str(value or "")):
        return path, f"Số định danh cá nhân phải gồm 12 chữ số: {path}."
    return None


def first(*problems):
    return next((p for p in problems if p), None)


def serial(prefix: str, request_id: str, digits: int = 6) -> str:
    """A stable made-up number for a request ("CT-2026-004211")."""
    return f"{prefix}{int(hashlib.sha256(request_id.encode()).hexdigest(), 16) % 10**digits:0{digits}d}"


# -- the engine -----------------------------------------------------------------------------------


class PartsEngine:
    def __init__(
        self,
        *,
        procedures: dict[str, Procedure],
        delay: float = 1.0,
        bus_url: str = "",
        client_id: str = "",
        key_pem: str = "",
        cert_pem: str = "",
        bus_cert_pem: str = "",
        prefix: str = "REQ",
    ):
        self.procedures, self.delay, self.bus_url = procedures, delay, bus_url
        self.client_id, self.key_pem, self.cert_pem, self.bus_cert_pem = client_id, key_pem, cert_pem, bus_cert_pem
        self.prefix = prefix
        self.lock = threading.Lock()
        self.requests: dict[str, dict] = {}  # request_id → {"body", "status", "reason", "result", "at", …}
        self.by_reference: dict[str, str] = {}
        self.outcomes: list[dict] = []  # scripted outcomes, first match first
        self.callbacks: list[dict] = []
        self.sent: dict[tuple[str, str], dict] = {}  # (request_id, status) → the body first sent

    # the protocol

    def submit(self, body) -> tuple[int, dict]:
        if not isinstance(body, dict):
            return 400, {"error": "Nội dung phải là một đối tượng JSON.", "field": ""}
        problem = first(
            require(body, "reference", "procedure", "applicant.full_name", "subject.full_name", "callback.service"),
            None if isinstance(body.get("data"), dict) else ("data", "Thiếu thông tin bắt buộc: data."),
        )
        if problem is None:
            procedure = self.procedures.get(body["procedure"])
            if procedure is None:
                problem = ("procedure", f"Hệ thống không giải quyết thủ tục “{body['procedure']}”.")
            else:
                problem = procedure.check(body)
        if problem:
            return 422, {"error": problem[1], "field": problem[0]}
        with self.lock:
            known = self.by_reference.get(body["reference"])
            if known and self.requests[known]["status"] != "refused":
                return 202, {"request_id": known, "status": "received"}
            request_id = f"{self.prefix}-{uuid.uuid4().hex[:12].upper()}"
            outcome = self._scripted(body["procedure"])
            self.requests[request_id] = {
                "request_id": request_id,
                "reference": body["reference"],
                "procedure": body["procedure"],
                "body": body,
                "status": "received",
                "reason": "",
                "result": None,
                "at": now().isoformat(),
                "received_at": now().isoformat(),
            }
            self.by_reference[body["reference"]] = request_id
        threading.Thread(target=self._work, args=(request_id, outcome), daemon=True).start()
        return 202, {"request_id": request_id, "status": "received"}

    def status(self, request_id: str) -> dict | None:
        with self.lock:
            request = self.requests.get(request_id)
            return self._public(request) if request else None

    @staticmethod
    def _public(request: dict) -> dict:
        return {key: request[key] for key in ("request_id", "reference", "status", "reason", "result", "at")}

    def _scripted(self, procedure: str) -> dict | None:
        for outcome in self.outcomes:
            if outcome.get("procedure") in (procedure, "", None) and outcome["count"] > 0:
                outcome["count"] -= 1
                return dict(outcome)
        return None

    def _work(self, request_id: str, scripted: dict | None) -> None:
        callback = scripted.get("callback", True) if scripted else True
        time.sleep(self.delay)
        self._move(request_id, "processing", "", None, callback)
        time.sleep(self.delay)
        with self.lock:
            body = self.requests[request_id]["body"]
        if scripted and scripted.get("status") in FINAL:
            status, reason = scripted["status"], scripted.get("reason") or ""
            result = None if status == "refused" else self.procedures[body["procedure"]].decide(body, request_id)[2]
            if status == "refused" and not reason:
                reason = "Hồ sơ không đủ điều kiện giải quyết."
        else:
            try:
                status, reason, result = self.procedures[body["procedure"]].decide(body, request_id)
            except Exception:  # a simulator bug must still end the request
                status, reason, result = "refused", "Lỗi xử lý tại hệ thống mô phỏng.", None
        self._move(request_id, status, reason, result, callback)

    def _move(self, request_id: str, status: str, reason: str, result, callback: bool) -> None:
        with self.lock:
            request = self.requests[request_id]
            request.update(status=status, reason=reason, result=result, at=now().isoformat())
            public = self._public(request)
            service = request["body"]["callback"]["service"]
        if callback:
            self._deliver(service, public)

    def _deliver(self, service: str, public: dict, *, retry: bool = True, key: str = "") -> int | None:
        """POST the status to the bus; retried with back-off until a 2xx (when `retry`)."""
        with self.lock:
            self.sent.setdefault((public["request_id"], public["status"]), public)
        pause = 0.2
        while True:
            status, _answer = bus_post(
                self.bus_url,
                service,
                f"/parts/{public['reference']}/status",
                public,
                client=self.client_id,
                key_pem=self.key_pem,
                cert_pem=self.cert_pem,
                key=key or f"{public['request_id']}:{public['status']}",
            )
            with self.lock:
                self.callbacks.append(
                    {
                        "request_id": public["request_id"],
                        "reference": public["reference"],
                        "status": public["status"],
                        "http_status": status,
                        "at": now().isoformat(),
                    }
                )
            if (status is not None and 200 <= status < 300) or not retry:
                return status
            time.sleep(pause)
            pause = min(pause * 2, 10.0)

    # test controls

    def control(self, method: str, parts: list[str], body: dict) -> tuple[int, object] | None:
        if method == "POST" and parts == ["outcome"]:
            status = body.get("status", "refused")
            if status not in FINAL:
                return 400, {"error": f"status must be one of {FINAL}"}
            with self.lock:
                self.outcomes.append(
                    {
                        "procedure": body.get("procedure") or "",
                        "status": status,
                        "reason": str(body.get("reason") or ""),
                        "count": int(body.get("count", 1)),
                        "callback": bool(body.get("callback", True)),
                    }
                )
            return 200, {"ok": True}
        if method == "GET" and parts == ["requests"]:
            with self.lock:
                return 200, [
                    {**self._public(r), "procedure": r["procedure"], "body": r["body"]} for r in self.requests.values()
                ]
        if method == "GET" and parts == ["callbacks"]:
            with self.lock:
                return 200, list(self.callbacks)
        if method == "POST" and parts == ["resend"]:
            with self.lock:
                request = self.requests.get(str(body.get("request_id", "")))
                if request is None:
                    return 404, {"error": "unknown request"}
                status = body.get("status") or request["status"]
                public = self.sent.get((request["request_id"], status))
                if public is None:
                    public = {**self._public(request), "status": status}
                    if status != request["status"]:
                        public.update(reason="", result=None)
                service = request["body"]["callback"]["service"]
            key = f"{public['request_id']}:{status}" + (f":{uuid.uuid4().hex[:8]}" if body.get("new_key") else "")
            return 200, {"status": self._deliver(service, public, retry=False, key=key)}
        if method == "POST" and parts == ["reset"]:
            with self.lock:
                self.requests.clear()
                self.by_reference.clear()
                self.outcomes.clear()
                self.callbacks.clear()
                self.sent.clear()
        return None


class PartsHandler(Handler):
    engine: PartsEngine
    raw_body = b""

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(length) if length else b""
        if not self.raw_body.strip():
            return None
        try:
            return json.loads(self.raw_body)
        except ValueError:
            return ValueError

    def route(self, method: str, parts: list[str], body) -> tuple[int, object]:
        if self.engine.bus_cert_pem and not verify_bus_token(
            self.headers.get("X-Road-Signature", ""),
            self.engine.bus_cert_pem,
            method=method,
            path=self.path,
            body=self.raw_body,
        ):
            return 401, {"error": "Yêu cầu không mang chữ ký hợp lệ của trục liên thông."}
        return self.route_parts(method, parts, body)

    def route_parts(self, method: str, parts: list[str], body) -> tuple[int, object]:
        if method == "POST" and parts == ["requests"]:
            return self.engine.submit(body)
        if method == "GET" and len(parts) == 2 and parts[0] == "requests":
            found = self.engine.status(parts[1])
            return (200, found) if found else (404, {"error": "Không tìm thấy yêu cầu."})
        return 404, {"error": "no such route"}

    def simulation(self, method: str, parts: list[str], body) -> tuple[int, object]:
        answer = self.engine.control(method, parts, body if isinstance(body, dict) else {})
        if answer is not None:
            return answer
        return super().simulation(method, parts, body)


def arguments(description: str, default_port: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port, help="0: a free port")
    parser.add_argument("--bus-url", default="http://127.0.0.1:8000", help="where our bus answers (/r1/…)")
    parser.add_argument("--client-id", required=True, help="this system's subsystem id on the bus")
    parser.add_argument("--key", required=True, help="PEM file: this system's private key (EC P-256)")
    parser.add_argument("--cert", required=True, help="PEM file: its certificate, registered on the bus")
    parser.add_argument("--bus-cert", default="", help="PEM file: the bus's certificate; requests must be signed")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before each status change")
    return parser


def read(path: str) -> str:
    if not path:
        return ""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def run(name: str, description: str, default_port: int, procedures: dict[str, Procedure], prefix: str, argv) -> None:
    """The `main` of a parts simulator module."""
    args = arguments(description, default_port).parse_args(argv)
    engine = PartsEngine(
        procedures=procedures,
        delay=args.delay,
        bus_url=args.bus_url,
        client_id=args.client_id,
        key_pem=read(args.key),
        cert_pem=read(args.cert),
        bus_cert_pem=read(args.bus_cert),
        prefix=prefix,
    )
    server = serve(PartsHandler, args.host, args.port, state=State(), engine=engine)
    core_simulators.serve_forever(server, name, f"http://{args.host}:{server.server_address[1]}")

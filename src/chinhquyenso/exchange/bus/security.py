"""Who is calling: signed request tokens per client subsystem (docs/data-bus.md, "Addressing and access").

Every call into the bus (`/r1/…`), every callback from a provider and every call this installation
makes to a provider carries `X-Road-Signature: <JWT>`, ES256 (EC P-256), JOSE header `x5t#S256` =
base64url SHA-256 of the signing certificate's DER, and the claims
`iss` (client subsystem id = the `X-Road-Client` header), `aud` (service id), `htm` (HTTP method),
`htu` (path under the service, with `?query`), `bh` (base64url SHA-256 of the raw body), `iat`,
`exp` (at most iat + 300 s), `jti` (one-time; a replay is refused). The client's certificate is the
one registered on its BusSubsystem; tokens are verified with joserfc (any JOSE library can sign:
the simulators use PyJWT)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from chinhquyenso.exchange.bus import keys, registry
from chinhquyenso.exchange.bus.errors import BusError

HEADER = "X-Road-Signature"
CLIENT_HEADER = "X-Road-Client"
ALGORITHM = "ES256"
MAX_LIFETIME = 300  # seconds a token may live (exp - iat)
LEEWAY = 30  # seconds of clock difference tolerated
REQUIRED_CLAIMS = ("iss", "aud", "htm", "htu", "bh", "iat", "exp", "jti")


def body_hash(body: bytes) -> str:
    return keys.b64url(hashlib.sha256(body or b"").digest())


def sign_token(
    key_pem: str,
    cert_pem: str,
    *,
    client: str,
    service: str,
    method: str,
    path: str,
    body: bytes = b"",
    lifetime: int = 60,
    now: float | None = None,
    jti: str | None = None,
) -> str:
    """A request token for one call (the contract in the module's docstring)."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": client,
        "aud": service,
        "htm": method.upper(),
        "htu": path,
        "bh": body_hash(body),
        "iat": issued,
        "exp": issued + lifetime,
        "jti": jti or uuid.uuid4().hex,
    }
    header = {"alg": ALGORITHM, "typ": "JWT", "x5t#S256": keys.thumbprint(cert_pem)}
    key = ECKey.import_key(key_pem)
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws.serialize_compact(header, payload, key, algorithms=[ALGORITHM])


def outgoing_headers(*, service_id: str, method: str, path: str, body: bytes, client: str = "") -> dict[str, str]:
    """Headers proving to a remote provider that this installation sends the call: a token signed
    with the bus's own key (keys.identity()); `client` is the calling subsystem (X-Road-Client)."""
    identity = keys.identity()
    token = sign_token(
        identity.key_pem,
        identity.cert_pem,
        client=client or registry.full_id(registry.SELF),
        service=service_id,
        method=method,
        path=path,
        body=body,
    )
    return {HEADER: token}


def _refuse(message: str, field: str = "signature") -> BusError:
    return BusError("unauthenticated", message, field=field)


def _header(headers, name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower(), "")
    return (value or "").strip()


def _b64json(part: str, what: str) -> dict:
    try:
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, TypeError):
        raise _refuse(f"Mã ký yêu cầu (X-Road-Signature) hỏng: phần {what} không đọc được.") from None
    if not isinstance(data, dict):
        raise _refuse(f"Mã ký yêu cầu (X-Road-Signature) hỏng: phần {what} không phải đối tượng JSON.")
    return data


def authenticate(
    request_headers, *, service_id: str, method: str, path: str, body: bytes, now: float | None = None
) -> str:
    """The id of the client subsystem that signed this request, or BusError("unauthenticated")
    naming what is wrong, or BusError("replayed") for a token already used. `path` is the path
    under the service with `?query` when there is one (what the client signed as `htu`)."""
    claimed = _header(request_headers, CLIENT_HEADER)
    if not claimed:
        raise _refuse("Thiếu tiêu đề X-Road-Client (mã hệ thống gọi).", field="client")
    token = _header(request_headers, HEADER)
    if not token:
        raise _refuse("Thiếu mã ký yêu cầu (tiêu đề X-Road-Signature).")
    parts = token.split(".")
    if len(parts) != 3:
        raise _refuse("Mã ký yêu cầu (X-Road-Signature) không đúng dạng JWS (ba phần cách nhau bởi dấu chấm).")
    header = _b64json(parts[0], "đầu")
    if header.get("alg") != ALGORITHM:
        raise _refuse(f"Mã ký yêu cầu phải dùng thuật toán {ALGORITHM}, không phải “{header.get('alg')}”.")
    client = registry.client(claimed)
    if client is None:
        raise _refuse(
            f"Hệ thống gọi “{claimed[:300]}” không có trong danh mục trục hoặc đang ngừng hoạt động.", "client"
        )
    if not client.thumbprint:
        raise _refuse(f"Hệ thống gọi {client.id} chưa đăng ký chứng thư số hợp lệ trên trục.", "client")
    if header.get("x5t#S256") != client.thumbprint:
        raise _refuse(
            f"Chứng thư dùng để ký (x5t#S256) không phải chứng thư đã đăng ký cho hệ thống {client.id}.", "client"
        )
    moment = dt.datetime.fromtimestamp(now if now is not None else time.time(), dt.UTC)
    if client.not_before and moment < client.not_before:
        raise _refuse(f"Chứng thư số của hệ thống {client.id} chưa đến thời hạn hiệu lực.", "client")
    if client.not_after and moment > client.not_after:
        raise _refuse(f"Chứng thư số của hệ thống {client.id} đã hết hạn.", "client")
    try:
        key = ECKey.import_key(client.certificate)
        verified = jws.deserialize_compact(token, key, algorithms=[ALGORITHM])
    except JoseError:
        raise _refuse("Chữ ký của mã ký yêu cầu không đúng với chứng thư đã đăng ký.") from None
    except (ValueError, TypeError):
        raise _refuse("Mã ký yêu cầu (X-Road-Signature) hỏng, không kiểm tra được chữ ký.") from None
    try:
        claims = json.loads(verified.payload)
    except ValueError:
        raise _refuse("Mã ký yêu cầu hỏng: phần nội dung không phải JSON.") from None
    if not isinstance(claims, dict):
        raise _refuse("Mã ký yêu cầu hỏng: phần nội dung không phải đối tượng JSON.")
    missing = [name for name in REQUIRED_CLAIMS if name not in claims]
    if missing:
        raise _refuse(f"Mã ký yêu cầu thiếu trường {', '.join(missing)}.")
    if claims["iss"] != claimed:
        raise _refuse("Hệ thống ký yêu cầu (iss) khác hệ thống ghi trong tiêu đề X-Road-Client.", "client")
    if claims["aud"] != service_id:
        raise _refuse("Mã ký yêu cầu được cấp cho dịch vụ khác (aud) với dịch vụ đang gọi.", "service")
    if str(claims["htm"]).upper() != method.upper():
        raise _refuse("Phương thức ghi trong mã ký yêu cầu (htm) khác phương thức của yêu cầu.", "method")
    if claims["htu"] != path:
        raise _refuse("Đường dẫn ghi trong mã ký yêu cầu (htu) khác đường dẫn của yêu cầu.", "path")
    if claims["bh"] != body_hash(body):
        raise _refuse("Mã băm nội dung trong mã ký yêu cầu (bh) khác nội dung đã gửi.", "body")
    iat, exp = claims["iat"], claims["exp"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (iat, exp)):
        raise _refuse("Thời điểm ký (iat) và hết hạn (exp) phải là số giây.")
    current = moment.timestamp()
    if exp - iat > MAX_LIFETIME:
        raise _refuse(f"Mã ký yêu cầu có thời hạn quá dài (tối đa {MAX_LIFETIME} giây).")
    if iat > current + LEEWAY:
        raise _refuse("Mã ký yêu cầu có thời điểm ký (iat) ở tương lai; hãy kiểm tra đồng hồ hệ thống gọi.")
    if exp < current - LEEWAY:
        raise _refuse("Mã ký yêu cầu đã hết hạn (exp).")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 8 <= len(jti) <= 100:
        raise _refuse("Mã dùng một lần (jti) của mã ký yêu cầu phải là chuỗi 8–100 ký tự.")
    _spend(client.id, jti, dt.datetime.fromtimestamp(exp + LEEWAY, dt.UTC))
    return client.id


def _spend(client_id: str, jti: str, expires_at: dt.datetime) -> None:
    """Record the token's one-time id; a second use is refused (unique row, any process)."""
    from chinhquyenso.exchange.models import BusNonce

    try:
        with transaction.atomic():
            BusNonce.objects.create(client=client_id[:300], nonce=jti, expires_at=expires_at)
    except IntegrityError:
        raise BusError(
            "replayed",
            "Yêu cầu này đã được gửi trước đó (mã dùng một lần jti đã dùng); không xử lý lại.",
            field="signature",
        ) from None


def purge_nonces(now: dt.datetime | None = None) -> int:
    """Delete the one-time ids of tokens that have expired (they can no longer be replayed)."""
    from chinhquyenso.exchange.models import BusNonce

    deleted, _ = BusNonce.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


@task()
def purge_nonces_job() -> dict:
    """Worker job (hourly): forget the one-time ids of expired tokens."""
    return {"deleted": purge_nonces()}

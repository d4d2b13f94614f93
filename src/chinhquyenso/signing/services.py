"""The signing service every app uses (documents, dossiers' e-results, `cqs sign`).

    from chinhquyenso.signing.services import Appearance, SigningError, agency_key, sign_pdf
    signed = sign_pdf(pdf_bytes, key=agency_key(agency.pk), profile="B-T",
                      appearance=Appearance(kind="agency", lines=("Số: 12/QĐ-UBND",)), actor=user)

PAdES profiles: "B-B" (no time stamp), "B-T" (RFC 3161 time stamp from CQS["SIGNING_TSA_URL"]), "B-LT"
(B-T and the OCSP/CRL answers embedded, checked against CQS["SIGNING_TRUST_ROOTS"]). Signing an already
signed PDF adds a field in an incremental update, so earlier signatures stay valid. The time stamp,
OCSP and a remote signer are network calls: sign_pdf refuses to run inside a transaction, and a failure
raises SigningError with nothing returned, so a caller never issues a half-signed document.

Placement follows Nghị định 30/2020/NĐ-CP, Phụ lục I (docs/signatures.md): the personal signature in the
signer's box at the bottom right of the last page; the agency's signature (its seal image, name and the
signing time) overlapping about a third of the personal signature, on its left."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import hashlib
import io
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from chinhquyenso.core import audit
from chinhquyenso.core.workflow import in_transaction
from chinhquyenso.signing import signers as signer_factory
from chinhquyenso.signing.fonts import VietnameseFontFactory
from chinhquyenso.signing.models import SigningKey
from chinhquyenso.signing.signers import SigningError

__all__ = [
    "PROFILES",
    "Appearance",
    "SigningError",
    "agency_key",
    "agency_key_or_none",
    "check_key",
    "personal_key",
    "sign_pdf",
]

logger = logging.getLogger(__name__)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILES = ("B-B", "B-T", "B-LT")
MM = 72 / 25.4
STAMP_FONT_SIZE = 8


@dataclass(frozen=True)
class Appearance:
    kind: str  # "agency" (seal image + agency name + signer name) or "personal" (chức vụ, họ tên box)
    signer_name: str = ""
    signer_title: str = ""
    lines: tuple[str, ...] = ()  # extra text, e.g. ("Số: 12/QĐ-UBND", "Ngày 06/12/2026") on the agency signature
    qr_url: str | None = None  # a QR code in the appearance linking to this URL (signed e-results)
    page: int = -1  # last page by default
    box: tuple[float, float, float, float] | None = None  # None: placed as Nghị định 30/2020 places it


# ---- which key ------------------------------------------------------------------------------------


def _usable(queryset):
    today = timezone.localdate()
    return (
        queryset.filter(active=True)
        .exclude(valid_from__gt=today)
        .exclude(valid_until__lt=today)
        .select_related("agency", "user")
        .order_by("-id")
    )


def agency_key_or_none(agency_id: int) -> SigningKey | None:
    return _usable(SigningKey.objects.filter(agency_id=agency_id, purpose=SigningKey.Purpose.AGENCY)).first()


def agency_key(agency_id: int) -> SigningKey:
    key = agency_key_or_none(agency_id)
    if key is None:
        raise SigningError(
            "Cơ quan chưa cấu hình chữ ký số (hoặc khoá đã hết hiệu lực); liên hệ quản trị hệ thống "
            "để khai báo khoá ký số của cơ quan."
        )
    return key


def personal_key(user) -> SigningKey | None:
    if not getattr(user, "pk", None):
        return None
    return _usable(SigningKey.objects.filter(user_id=user.pk, purpose=SigningKey.Purpose.PERSONAL)).first()


# ---- appearance -----------------------------------------------------------------------------------

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


@functools.cache
def appearance_font() -> str:
    """A TrueType font with Vietnamese glyphs, found through fontconfig (as core.pdf's fonts are), else
    at Debian's paths. Never downloaded."""
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", "Liberation Sans:lang=vi"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        if found.endswith(".ttf") and Path(found).exists():
            return found
    except (OSError, subprocess.SubprocessError):
        pass
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            return path
    raise SigningError(
        "Không tìm thấy phông chữ tiếng Việt cho hình ảnh chữ ký (cài gói fonts-liberation2).", field="file"
    )


def default_box(kind: str, page_width: float, page_height: float, *, with_qr: bool = False):
    """Nghị định 30/2020, Phụ lục I: the signer's box sits at the bottom right (ô số 7, right margin
    15–20 mm); the agency's seal overlaps about a third of the personal signature on its left."""
    right = page_width - 20 * MM
    bottom = 25 * MM
    personal = (right - 70 * MM, bottom, right, bottom + 32 * MM)
    if kind == "personal":
        return personal
    width = (75 if with_qr else 55) * MM
    height = 38 * MM
    x2 = personal[0] + (personal[2] - personal[0]) / 3
    x1 = max(5 * MM, x2 - width)
    middle = (personal[1] + personal[3]) / 2
    return (x1, middle - height / 2, x1 + width, middle + height / 2)


def _stamp_style(appearance: Appearance, key: SigningKey, signed_at: dt.datetime):
    from pyhanko.pdf_utils.layout import AxisAlignment, Margins, SimpleBoxLayoutRule
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import QRStampStyle, TextStampStyle

    name = appearance.signer_name or key.signer_name
    title = appearance.signer_title or key.signer_title
    when = signed_at.astimezone(VN).isoformat(timespec="seconds")
    if appearance.kind == "agency":
        agency_name = key.agency.name if key.agency_id else ""
        lines = [agency_name, *appearance.lines, f"Thời gian ký: {when}"]
        if name:
            lines.insert(1, f"Người ký: {name}")
    else:
        lines = [title, name, f"Ký số: {when}"]
    lines = [line for line in lines if line]
    # User texts go in as parameters, never into the template, so a "%" in a name is just a character.
    params = {f"l{i}": line for i, line in enumerate(lines)}
    template = "\n".join(f"%(l{i})s" for i in range(len(lines)))
    # The font's size and the text box's agree; fonts.py explains the glyph units.
    text_box = TextBoxStyle(
        font=VietnameseFontFactory(appearance_font(), font_size=STAMP_FONT_SIZE, bcp47_lang_code="vi"),
        font_size=STAMP_FONT_SIZE,
        leading=STAMP_FONT_SIZE + 2,
    )
    options = {"stamp_text": template, "text_box_style": text_box, "border_width": 0}
    if appearance.kind == "personal":
        # Text on the right of the signer's box: its left third is where the agency's seal overlaps.
        options["inner_content_layout"] = SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MAX, y_align=AxisAlignment.ALIGN_MID, margins=Margins.uniform(2)
        )
    if appearance.kind == "agency" and key.seal_image_path:
        from pyhanko.pdf_utils.images import PdfImage

        try:
            options["background"] = PdfImage(key.seal_image_path)
        except (OSError, ValueError):
            raise SigningError("Không đọc được ảnh con dấu (PNG) đã cấu hình cho khoá ký số.") from None
        options["background_opacity"] = 1.0
    if appearance.qr_url:
        params["url"] = appearance.qr_url
        return QRStampStyle(**options), params
    return TextStampStyle(**options), params


# ---- signing --------------------------------------------------------------------------------------


def _trust_roots():
    from pyhanko.keys import load_cert_from_pemder

    paths = settings.CQS.get("SIGNING_TRUST_ROOTS") or []
    if not paths:
        raise SigningError("Chưa cấu hình chứng thư gốc tin cậy (CQS_SIGNING_TRUST_ROOTS) để ký PAdES-B-LT.", "profile")
    try:
        return [load_cert_from_pemder(str(path)) for path in paths]
    except (OSError, ValueError):
        raise SigningError("Không đọc được chứng thư gốc tin cậy đã cấu hình.", "profile") from None


def _timestamper():
    from pyhanko.sign.timestamps import HTTPTimeStamper

    url = settings.CQS.get("SIGNING_TSA_URL") or ""
    if not url:
        raise SigningError("Chưa cấu hình máy chủ cấp dấu thời gian (CQS_SIGNING_TSA_URL).", "profile")
    return HTTPTimeStamper(url, timeout=settings.CQS.get("SIGNING_TIMEOUT_SECONDS", 10))


def _open_pdf(data: bytes):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError

    if not isinstance(data, bytes | bytearray) or not bytes(data[:1024]).lstrip().startswith(b"%PDF-"):
        raise SigningError("Tệp cần ký không phải PDF.", "file")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(bytes(data)), strict=False)
    except (PdfError, ValueError, KeyError, TypeError):
        raise SigningError("Tệp PDF bị hỏng, không ký được.", "file") from None
    if writer.prev.encrypted:
        raise SigningError("Tệp PDF đã được mã hoá; hãy gửi bản không đặt mật khẩu.", "file")
    return writer


def _page_geometry(writer, page: int):
    count = int(writer.root["/Pages"]["/Count"])
    index = page if page >= 0 else count + page
    if not 0 <= index < count:
        raise SigningError(f"Văn bản không có trang {page + 1 if page >= 0 else page}.", "file")
    page_ref, _ = writer.find_page_for_modification(index)
    box = [float(v) for v in page_ref.get_object().get("/MediaBox", [0, 0, 595.28, 841.89])]
    return index, box[2] - box[0], box[3] - box[1]


def _new_field_name(writer) -> str:
    from pyhanko.sign.fields import enumerate_sig_fields

    taken = {name for name, *_ in enumerate_sig_fields(writer.prev)}
    n = len(taken) + 1
    while f"ChuKySo{n}" in taken:
        n += 1
    return f"ChuKySo{n}"


def _check_certificate(cert) -> None:
    now = dt.datetime.now(dt.UTC)
    validity = cert["tbs_certificate"]["validity"]
    if validity["not_after"].native < now:
        raise SigningError("Chứng thư số của khoá ký đã hết hạn; cần gia hạn chứng thư trước khi ký.")
    if validity["not_before"].native > now:
        raise SigningError("Chứng thư số của khoá ký chưa đến ngày có hiệu lực.")


def _explain(exc: Exception) -> SigningError:
    """A plain Vietnamese reason for a failure inside pyHanko (logged by type only: no key material)."""
    from pyhanko.sign.general import SigningError as PyHankoSigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, RevokedError

    chain, seen = [], exc
    while seen is not None and len(chain) < 10:  # pyHanko wraps the validator's error in its own
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for cause in chain:
        if isinstance(cause, RevokedError | TimestampRequestError | PathBuildingError):
            exc = cause
            break
    if isinstance(exc, TimestampRequestError):
        return SigningError("Không lấy được dấu thời gian từ máy chủ TSA; văn bản chưa được ký, hãy thử lại sau.")
    if isinstance(exc, RevokedError):
        return SigningError("Chứng thư số của khoá ký đã bị thu hồi; văn bản không được ký.")
    if isinstance(exc, PathBuildingError):
        return SigningError("Chứng thư số của khoá ký không thuộc chuỗi tin cậy đã cấu hình.")
    if isinstance(exc, PathValidationError):
        return SigningError(
            "Không xác minh được trạng thái chứng thư số (OCSP/CRL) để ký PAdES-B-LT; văn bản chưa được ký."
        )
    if isinstance(exc, PyHankoSigningError) and "validat" in str(exc).lower():
        return SigningError(
            "Không xác minh được trạng thái chứng thư số (OCSP/CRL) để ký PAdES-B-LT; văn bản chưa được ký."
        )
    return SigningError("Không ký được văn bản do lỗi của dịch vụ ký số; văn bản chưa được ký.")


def _outside_event_loop(work):
    """pyHanko's synchronous API starts an asyncio loop of its own, which a thread already running one
    cannot do (a caller inside an async framework, Playwright's synchronous API in browser tests):
    there the work runs in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()

    def in_thread():
        try:
            return work()
        finally:
            connections.close_all()  # the thread's own database connections (a key's agency read lazily)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(in_thread).result()


async def _fetch_crls(validation_context, certificates, key_id: int) -> None:
    """B-LT embeds the revocation answers pyHanko's path validation used, and once a certificate's OCSP
    answer is good it never reads that certificate's CRL. The CRLs every certificate of the signer's chain
    declares are fetched here as well, so the document carries both: a verifier that reads only CRLs, or
    one checking long after the OCSP responder has gone, can still check it offline. A CRL that cannot be
    fetched is logged and left out: the OCSP answer still proves the status, and the hard-fail validation
    that follows refuses a certificate whose status nothing proves."""
    for certificate in certificates:
        if not certificate.crl_distribution_points:
            continue
        try:
            await validation_context.revinfo_manager.fetch_crls(certificate)
        except Exception as exc:  # noqa: BLE001 — CRLFetchError, or the HTTP client's own errors
            logger.warning("B-LT with key %s: a CRL of its chain could not be fetched (%s)", key_id, type(exc).__name__)


async def _sign(pdf_signer, writer, text_params: dict, validation_context, chain, key_id: int) -> bytes:
    """pyHanko's signing on one event loop: B-LT's CRLs are fetched through the HTTP session its OCSP
    requests use, and that session is closed before the loop ends (as pyHanko's synchronous sign_pdf does)."""
    try:
        if validation_context is not None:
            await _fetch_crls(validation_context, chain, key_id)
        output = await pdf_signer.async_sign_pdf(writer, appearance_text_params=text_params or None)
        return output.getvalue()
    finally:
        if validation_context is not None:
            await validation_context.aclose()


def sign_pdf(
    data: bytes,
    *,
    key: SigningKey,
    profile: str | None = None,
    appearance: Appearance | None = None,
    field_name: str | None = None,
    reason: str = "",
    actor=None,
) -> bytes:
    """The PDF `data` signed with `key` (see the module's docstring); SigningError on any failure."""
    if in_transaction():
        raise RuntimeError("sign_pdf calls the TSA, OCSP and remote signers: call it before or after the transaction")
    profile = profile or settings.CQS.get("SIGNING_DEFAULT_PROFILE") or "B-T"
    if profile not in PROFILES:
        raise SigningError("Hồ sơ chữ ký phải là B-B, B-T hoặc B-LT.", "profile")
    if not key.active:
        raise SigningError("Khoá ký số này đã ngừng sử dụng.")
    if appearance is not None and appearance.kind not in ("agency", "personal"):
        raise SigningError("Kiểu hình ảnh chữ ký phải là của cơ quan hoặc cá nhân.", "appearance")

    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import SigSeedSubFilter

    writer = _open_pdf(data)
    name = field_name or _new_field_name(writer)
    timestamper = _timestamper() if profile in ("B-T", "B-LT") else None
    validation_context = None
    if profile == "B-LT":
        from pyhanko_certvalidator import ValidationContext

        validation_context = ValidationContext(
            trust_roots=_trust_roots(), allow_fetching=True, revocation_mode="hard-fail"
        )
    signed_at = timezone.now()
    field_spec = style = None
    text_params = {}
    if appearance is not None:
        page, width, height = _page_geometry(writer, appearance.page)
        box = appearance.box or default_box(appearance.kind, width, height, with_qr=bool(appearance.qr_url))
        field_spec = fields.SigFieldSpec(sig_field_name=name, on_page=page, box=tuple(box))
        style, text_params = _stamp_style(appearance, key, signed_at)
    metadata = signers.PdfSignatureMetadata(
        field_name=name,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason or None,
        location=settings.CQS.get("PROVINCE_NAME") or None,
        embed_validation_info=profile == "B-LT",
        validation_context=validation_context,
    )
    before = hashlib.sha256(data).hexdigest()

    def sign() -> bytes:
        with signer_factory.open_signer(key, document_name=name) as signer:
            _check_certificate(signer.signing_cert)
            pdf_signer = signers.PdfSigner(
                metadata, signer=signer, timestamper=timestamper, stamp_style=style, new_field_spec=field_spec
            )
            chain = [signer.signing_cert, *signer.cert_registry]
            return asyncio.run(_sign(pdf_signer, writer, text_params, validation_context, chain, key.pk))

    try:
        signed = _outside_event_loop(sign)
    except SigningError as refused:
        # The key's number and the plain reason, for the operator; never the secret or the key itself.
        logger.warning("signing with key %s (%s) refused: %s", key.pk, profile, refused.message)
        raise
    except Exception as exc:
        logger.warning("signing with key %s (%s) failed: %s", key.pk, profile, type(exc).__name__)
        raise _explain(exc) from None
    after = hashlib.sha256(signed).hexdigest()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="signing.sign",
            object_type="signing.SigningKey",
            object_id=key.pk,
            agency_id=key.agency_id,
            after={"key": key.pk, "profile": profile, "field": name, "sha256_before": before, "sha256_after": after},
        )
    return signed


# ---- keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCheck:
    subject: str
    issuer: str
    not_after: dt.datetime
    fingerprint: str


def check_key(key: SigningKey, *, actor=None) -> KeyCheck:
    """Open the key (passphrase, token, provider), read its certificate and store its fingerprint,
    subject and expiry on the key. SigningError when it cannot be opened."""
    if in_transaction():
        raise RuntimeError("check_key may open a token or call a remote provider: call it outside a transaction")
    with signer_factory.open_signer(key) as signer:
        cert = signer.signing_cert
    result = KeyCheck(
        subject=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        not_after=cert["tbs_certificate"]["validity"]["not_after"].native,
        fingerprint=signer_factory.fingerprint(cert),
    )
    with transaction.atomic():
        SigningKey.objects.filter(pk=key.pk).update(
            certificate_fingerprint=result.fingerprint,
            certificate_subject=result.subject[:500],
            certificate_expires_at=result.not_after,
            checked_at=timezone.now(),
        )
        audit.record(
            actor=actor,
            action="signing.key.check",
            object_type="signing.SigningKey",
            object_id=key.pk,
            agency_id=key.agency_id,
            after={"key": key.pk, "fingerprint": result.fingerprint},
        )
    key.refresh_from_db()
    return result

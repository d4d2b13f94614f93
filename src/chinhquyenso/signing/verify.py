"""Verifying the digital signatures in a PDF (PAdES / adbe.pkcs7.detached), for anyone.

`verify_pdf(data)` reads every signature in the file and answers, for each, in plain terms: is it intact,
who signed, when, is there a time stamp, does the chain reach a root this installation trusts
(CQS["SIGNING_TRUST_ROOTS"]), was the certificate revoked or expired, and was the document changed after
that signature in a way a signature does not allow — pyHanko's difference analysis of the incremental
updates after the signed revision, which also flags the "shadow attack" patterns (content hidden, replaced
or overlaid in a later revision). `overall(reports)` sums a file up in one word for pages and the QR check.

The bytes are never stored or logged: verification only. It runs outside transactions (revocation
fetching, when enabled, is a network call) and never raises anything but DomainError for a file it
cannot read: a hostile or broken signature becomes a report with its problems."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import pem, x509
from django.conf import settings

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.uploads import sniff, too_large

logger = logging.getLogger(__name__)

VALID, MODIFIED, INVALID, UNSIGNED = "valid", "modified", "invalid", "unsigned"
OVERALL_LABELS = {
    VALID: "Chữ ký hợp lệ",
    MODIFIED: "Tài liệu đã bị sửa sau khi ký",
    INVALID: "Chữ ký không hợp lệ",
    UNSIGNED: "Không có chữ ký số",
}
REVOCATION_LABELS = {
    "good": "Chưa bị thu hồi (đã kiểm tra)",
    "revoked": "Đã bị thu hồi",
    "unknown": "Không có thông tin thu hồi để kiểm tra",
}

NO_CHANGE = "Không có thay đổi nào sau khi ký."
HARMLESS_CHANGE = "Sau khi ký chỉ có thêm chữ ký, dấu thời gian, thông tin kiểm tra chứng thư hoặc điền biểu mẫu."
DISALLOWED_CHANGE = (
    "Tài liệu bị sửa sau khi ký (thêm chú thích, thay đổi nội dung trang hoặc đối tượng khác) — "
    "nội dung đang thấy có thể khác nội dung đã ký."
)
PARTIAL_COVERAGE = "Chữ ký không bao phủ trọn phiên bản tài liệu đã ký (cấu trúc bất thường)."

NOT_PDF = "Tệp không phải PDF; chỉ kiểm tra được chữ ký số trong tệp PDF."
UNREADABLE = "Không đọc được tệp PDF (tệp bị hỏng hoặc cấu trúc không hợp lệ)."
ENCRYPTED = "Tệp PDF được đặt mật khẩu; hãy tải lên bản không đặt mật khẩu để kiểm tra chữ ký."
EMPTY = "Tệp tải lên rỗng."
NO_FILE = "Hãy chọn tệp PDF cần kiểm tra."


@dataclass(frozen=True)
class SignatureReport:
    field: str
    valid: bool  # intact, cryptographically valid, chain trusted, not revoked/expired, not modified after
    intact: bool  # the digest of the signed byte ranges matches the one that was signed
    signer: str  # the signer certificate's subject common name
    organization: str  # subject O, if any
    signed_at: datetime | None  # the time stamp's time when trusted, else the time the signer claims
    timestamped: bool
    timestamp_at: datetime | None
    modified_after_signing: bool
    modification: str  # Vietnamese: what changed after this signature
    chain_trusted: bool
    chain: tuple[str, ...]  # subject names, signer first, root last
    revocation: str  # "good" / "revoked" / "unknown"
    expired: bool  # signer certificate not valid at the signing time
    problems: tuple[str, ...]  # plain Vietnamese reasons it is not valid

    @property
    def status(self) -> str:
        return overall([self])

    @property
    def status_label(self) -> str:
        return OVERALL_LABELS[self.status]

    @property
    def revocation_label(self) -> str:
        return REVOCATION_LABELS.get(self.revocation, self.revocation)


def overall(reports: Sequence[SignatureReport]) -> str:
    """One word for a file: "unsigned" (no signature), "modified" (some signature's bytes changed, or the
    document was changed after it in a way signatures do not allow), "invalid" (some signature fails
    otherwise: broken, untrusted, revoked, expired), "valid" (every signature is valid).

    A change after signing wins over other failures: it is what a reader must know first — what they
    see is not what was signed."""
    if not reports:
        return UNSIGNED
    if any(not r.intact or r.modified_after_signing for r in reports):
        return MODIFIED
    if all(r.valid for r in reports):
        return VALID
    return INVALID


# ---------------------------------------------------------------------------------------------- settings


def _signing_settings() -> dict:
    return getattr(settings, "CQS", {}) or {}


def _root_paths() -> tuple[str, ...]:
    """CQS["SIGNING_TRUST_ROOTS"]: a list of PEM/DER file paths (or one string, separated by os.pathsep
    or commas, as the environment variable gives it)."""
    value = _signing_settings().get("SIGNING_TRUST_ROOTS") or os.environ.get("CQS_SIGNING_TRUST_ROOTS", "")
    if isinstance(value, str):
        value = [p for part in value.split(os.pathsep) for p in part.split(",")]
    return tuple(str(p).strip() for p in value if str(p).strip())


_roots_cache: dict[tuple, tuple[x509.Certificate, ...]] = {}


def _read_certificates(data: bytes) -> list[x509.Certificate]:
    if pem.detect(data):
        return [
            x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"
        ]
    return [x509.Certificate.load(data)]


def trust_roots() -> tuple[x509.Certificate, ...]:
    """The configured roots, read once per file version (path, size, mtime). A missing or unreadable file is
    logged (its path, never certificate contents) and skipped: every signature is then untrusted, which
    the page says, rather than the page failing."""
    paths = _root_paths()
    stamp = []
    for path in paths:
        try:
            info = os.stat(path)
            stamp.append((path, info.st_size, info.st_mtime_ns))
        except OSError:
            stamp.append((path, None, None))
    key = tuple(stamp)
    if key not in _roots_cache:
        roots: list[x509.Certificate] = []
        for path, size, _ in stamp:
            if size is None:
                logger.warning("signing.verify: trust root file missing: %s", path)
                continue
            try:
                with open(path, "rb") as handle:
                    roots.extend(_read_certificates(handle.read()))
            except (OSError, ValueError) as error:
                logger.warning("signing.verify: trust root file unreadable: %s (%s)", path, type(error).__name__)
        _roots_cache.clear()
        _roots_cache[key] = tuple(roots)
    return _roots_cache[key]


def _fetching_allowed() -> bool:
    value = _signing_settings().get("SIGNING_FETCH_REVOCATION", False)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


# ---------------------------------------------------------------------------------------------- reading


def _cn(name: x509.Name) -> str:
    native = name.native
    value = native.get("common_name") or ""
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value) or name.human_friendly


def _organization(name: x509.Name) -> str:
    value = name.native.get("organization_name") or ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)


def _embedded_chain(signer: x509.Certificate, certificates: Iterable[x509.Certificate]) -> tuple[str, ...]:
    """Signer → issuer → … by names, from the certificates the signature carries: shown even when no path
    reaches a trusted root (so the page says which root it claims)."""
    by_subject = {c.subject.dump(): c for c in certificates}
    chain, current, seen = [signer], signer, {signer.dump()}
    while current.issuer.dump() != current.subject.dump():
        issuer = by_subject.get(current.issuer.dump())
        if issuer is None or issuer.dump() in seen:
            break
        chain.append(issuer)
        seen.add(issuer.dump())
        current = issuer
    names = [_cn(c.subject) for c in chain]
    if chain[-1].issuer.dump() != chain[-1].subject.dump():
        names.append(_cn(chain[-1].issuer))  # the claimed issuer the file does not carry
    return tuple(names)


def _validated_chain(path) -> tuple[str, ...]:
    certs = list(path.iter_certs(include_root=True))
    return tuple(_cn(c.subject) for c in reversed(certs))


def _valid_at(cert: x509.Certificate, moment: datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native <= moment <= validity["not_after"].native


def _revocation(status, vc) -> str:
    """ "revoked" when pyHanko found the signer (or a CA) revoked; "good" when the chain was trusted and
    revocation information covering the signer certificate — embedded (B-LT) or fetched — was at hand;
    "unknown" otherwise (B-B/B-T without fetching: nothing to check against)."""
    if status.revoked:
        return "revoked"
    if not status.trusted:
        return "unknown"
    signer = status.signing_cert
    serial = signer.serial_number
    issuer_name = signer.issuer.dump()
    manager = vc.revinfo_manager
    for response in manager.ocsps:
        try:
            basic = response["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native == serial and single["cert_status"].name == "good":
                    return "good"
        except (KeyError, ValueError, TypeError, AttributeError):
            continue
    for certificate_list in manager.crls:
        try:
            if certificate_list["tbs_cert_list"]["issuer"].dump() == issuer_name:
                return "good"  # the path validated with this CRL in hand and found no entry for the signer
        except (KeyError, ValueError, TypeError):
            continue
    return "unknown"


def _modification(status) -> tuple[bool, str]:
    from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return False, NO_CHANGE
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return True, PARTIAL_COVERAGE
    if isinstance(status.diff_result, SuspiciousModification):
        return True, DISALLOWED_CHANGE
    level = status.modification_level
    if level is None or level > ModificationLevel.FORM_FILLING:
        return True, DISALLOWED_CHANGE
    return False, HARMLESS_CHANGE


# ---------------------------------------------------------------------------------------------- validating


def _context(vc_kwargs: dict, moment: datetime | None = None):
    from pyhanko_certvalidator import ValidationContext

    kwargs = dict(vc_kwargs)
    if moment is not None:
        kwargs["moment"] = moment
        kwargs["allow_fetching"] = False  # a point-in-time validation only uses what the file carries
    return ValidationContext(**kwargs)


def _key_usage():
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    # Vietnamese CAs issue signing certificates with digitalSignature, nonRepudiation or both.
    return KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)


async def _validate(embedded, vc_kwargs: dict) -> SignatureReport:
    from pyhanko.sign.ades.report import AdESIndeterminate
    from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature

    vc = _context(vc_kwargs)
    status = await async_validate_pdf_signature(embedded, vc, key_usage_settings=_key_usage())
    signer = status.signing_cert

    stamp = status.timestamp_validity
    timestamp_at = stamp.timestamp if stamp is not None else None
    stamp_trusted = stamp is not None and stamp.intact and stamp.valid and stamp.trusted
    signed_at = timestamp_at if stamp_trusted else status.signer_reported_dt

    expired = signed_at is not None and not _valid_at(signer, signed_at)
    if (
        not status.trusted
        and stamp_trusted
        and not expired
        and status.trust_problem_indic in (AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.EXPIRED)
    ):
        # Expired since, but a trusted time stamp proves it was signed while the certificate was valid:
        # check the chain at that moment, with what the file carries.
        vc = _context(vc_kwargs, moment=timestamp_at)
        status = await async_validate_pdf_signature(embedded, vc, key_usage_settings=_key_usage())

    chain_trusted = status.trusted
    modified, modification = _modification(status)
    revocation = _revocation(status, vc)
    chain = (
        _validated_chain(status.validation_path)
        if status.validation_path is not None
        else _embedded_chain(signer, _certificates(embedded))
    )

    problems = []
    if not status.intact:
        problems.append("Nội dung đã ký bị thay đổi: mã băm của phần được ký không khớp với chữ ký.")
    if not status.valid:
        problems.append("Giá trị chữ ký không đúng với chứng thư số của người ký.")
    if revocation == "revoked":
        problems.append("Chứng thư số của người ký (hoặc của tổ chức cấp) đã bị thu hồi.")
    if expired:
        problems.append("Chứng thư số của người ký không còn hiệu lực (hết hạn hoặc chưa có hiệu lực) lúc ký.")
    if status.intact and status.valid and not chain_trusted and revocation != "revoked" and not expired:
        problems.append(_trust_problem(status))
    if stamp is not None and not stamp_trusted:
        problems.append("Dấu thời gian không hợp lệ hoặc do đơn vị cấp dấu thời gian không được tin cậy.")
    if modified:
        problems.append(modification)
    if not status.seed_value_ok:
        problems.append("Chữ ký không đáp ứng ràng buộc của ô chữ ký trong tài liệu.")

    return SignatureReport(
        field=str(embedded.field_name or ""),
        valid=not problems and status.bottom_line,
        intact=bool(status.intact),
        signer=_cn(signer.subject),
        organization=_organization(signer.subject),
        signed_at=signed_at,
        timestamped=stamp is not None,
        timestamp_at=timestamp_at,
        modified_after_signing=modified,
        modification=modification,
        chain_trusted=chain_trusted,
        chain=chain,
        revocation=revocation,
        expired=expired,
        problems=tuple(problems),
    )


def _trust_problem(status) -> str:
    from pyhanko.sign.ades.report import AdESIndeterminate

    if status.trust_problem_indic == AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
        return "Chứng thư số không do tổ chức cung cấp dịch vụ chứng thực được tin cậy cấp (không dựng được chuỗi)."
    if status.trust_problem_indic in (AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.EXPIRED):
        return (
            "Chứng thư số của người ký đã hết hiệu lực; không có dấu thời gian tin cậy chứng minh chữ ký "
            "được tạo khi chứng thư còn hiệu lực."
        )
    if status.trust_problem_indic == AdESIndeterminate.NOT_YET_VALID:
        return "Chứng thư số chưa có hiệu lực."
    if status.trust_problem_indic == AdESIndeterminate.SIG_CONSTRAINTS_FAILURE:
        return "Chứng thư số không được cấp cho mục đích ký số (key usage)."
    return "Không xác thực được chuỗi chứng thư số đến tổ chức chứng thực được tin cậy."


def _certificates(embedded) -> list[x509.Certificate]:
    return [c.chosen for c in embedded.signed_data["certificates"] if c.name == "certificate"]


def _broken(embedded, error: Exception, field: str = "") -> SignatureReport:
    """A signature pyHanko could not evaluate at all (malformed CMS, unsupported sub-filter, hostile
    structure): reported as invalid with what can still be read, never an error page."""
    signer, organization = "", ""
    try:
        field = field or str(embedded.field_name or "")
        cert = embedded.signer_cert
        signer, organization = _cn(cert.subject), _organization(cert.subject)
    except Exception:  # noqa: BLE001 — the structure is broken; the name is a nicety
        pass
    logger.info("signing.verify: signature could not be evaluated (%s)", type(error).__name__)
    return SignatureReport(
        field=field,
        valid=False,
        intact=False,
        signer=signer,
        organization=organization,
        signed_at=None,
        timestamped=False,
        timestamp_at=None,
        modified_after_signing=False,
        modification="",
        chain_trusted=False,
        chain=(),
        revocation="unknown",
        expired=False,
        problems=("Chữ ký bị hỏng, có cấu trúc không hợp lệ hoặc thuộc loại không hỗ trợ; không kiểm tra được.",),
    )


async def _validate_all(reader, readable, unreadable) -> list[SignatureReport]:
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    vc_kwargs: dict = {
        "trust_roots": list(trust_roots()),
        "allow_fetching": _fetching_allowed(),
        "revocation_mode": "soft-fail",
    }
    try:  # B-LT: the certificates and revocation answers the document security store carries
        dss = DocumentSecurityStore.read_dss(reader)
        embedded_vc = dss.as_validation_context({})
        vc_kwargs["other_certs"] = list(dss.load_certs())
        vc_kwargs["ocsps"] = list(embedded_vc.revinfo_manager.ocsps)
        vc_kwargs["crls"] = list(embedded_vc.revinfo_manager.crls)
    except Exception:  # noqa: BLE001 — no DSS (most files), or a broken one: validate without it
        pass

    reports = []
    for embedded in readable:
        try:
            reports.append(await _validate(embedded, vc_kwargs))
        except Exception as error:  # noqa: BLE001 — hostile input must not become a 500
            reports.append(_broken(embedded, error))
    reports.extend(_broken(None, error, field) for field, error in unreadable)
    return reports


def _collect(reader) -> tuple[list, list[tuple[str, Exception]]]:
    """The filled signature fields, as pyHanko's own collector finds them — but one whose signature
    object cannot be parsed (or whose sub-filter no validator knows) is kept as (field name, error)
    instead of failing the whole file or being silently skipped. Document time stamps (/DocTimeStamp,
    PAdES-LTA maintenance) are not signatures of a person or agency and are left out."""
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    readable, unreadable = [], []
    for name, signature, sig_field in enumerate_sig_fields(reader, filled_status=True):
        name = str(name)
        try:
            signature = signature.get_object()
            if signature.get("/Type") == "/DocTimeStamp":
                continue
            subfilter = signature.get("/SubFilter")
            if subfilter not in ("/adbe.pkcs7.detached", "/ETSI.CAdES.detached"):
                raise ValueError(f"unsupported sub-filter {subfilter}")
            readable.append(EmbeddedPdfSignature(reader, sig_field, name))
        except Exception as error:  # noqa: BLE001 — one hostile signature must not hide the others
            unreadable.append((name, error))
    readable.sort(key=lambda embedded: embedded.signed_revision)
    return readable, unreadable


def _run(coro):
    """Run the validation's coroutine from sync code; from inside a running event loop (an async caller),
    in a worker thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def verify_pdf(data: bytes) -> list[SignatureReport]:
    """Each signature in `data` (a PDF), in the order they were made. DomainError naming "file" for bytes
    that are empty, too large (CQS["UPLOAD_MAX_BYTES"]), not a PDF, unreadable or password-protected.
    An empty list: a readable PDF without signatures."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    if not data:
        raise DomainError(EMPTY, "file")
    limit = settings.CQS["UPLOAD_MAX_BYTES"]
    if len(data) > limit:
        raise too_large("file", limit)
    kind = sniff(bytes(data[:16]))
    if kind is None or kind[0] != "application/pdf":
        raise DomainError(NOT_PDF, "file")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise DomainError(ENCRYPTED, "file")
        # Walking the AcroForm's fields: a broken tree fails here, before validation.
        readable, unreadable = _collect(reader)
    except DomainError:
        raise
    except Exception as error:  # noqa: BLE001 — whatever a hostile file makes the parser raise
        logger.info("signing.verify: unreadable PDF (%s)", type(error).__name__)
        raise DomainError(UNREADABLE, "file") from None
    return _run(_validate_all(reader, readable, unreadable))


def read_upload(upload) -> bytes:
    """The bytes of an uploaded file (Django's UploadedFile), its declared size checked before a byte is
    read; verify_pdf checks the size read."""
    limit = settings.CQS["UPLOAD_MAX_BYTES"]
    if (getattr(upload, "size", None) or 0) > limit:
        raise too_large("file", limit)
    upload.seek(0)
    return upload.read(limit + 1)


def verify_upload(upload) -> list[SignatureReport]:
    """verify_pdf for an uploaded file: the bytes live only for this call — nothing is stored."""
    return verify_pdf(read_upload(upload))

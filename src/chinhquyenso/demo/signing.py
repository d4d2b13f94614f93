"""Digital signatures in the demo province: a local test PKI, keys for the agencies and leaders, and
the PKI services process (time stamps, OCSP, CRL) the demo runs beside its web server.

FOR THE DEMO ONLY, never production (docs/signatures.md): the PKI's CA keys lie unencrypted in
`$CQS_DATA_DIR/demo-pki/`, every PKCS#12 file there shares one passphrase (a random one, in
`passphrase.txt` beside them) and the certificates chain to a root no one else trusts.

The PKI is generated once, on the first `cqs seed-demo`, and kept: a second demo database built in
the same data directory reuses it, so files signed earlier still verify. Its certificates name
`http://127.0.0.1:8794` (PKI_PORT) as their OCSP responder and CRL address, where `cqs demo` starts
the services process; time stamps are asked at the address the process announces, whatever its port.

Keys are rows of signing.SigningKey pointing at the PKCS#12 files (never key material in the
database): one agency seal key for every current agency — each may issue dossiers' e-results, which
CQS_RESULTS_REQUIRE_SIGNATURE (on by default) refuses unsigned — and personal keys for the leaders of
the agencies that exchange documents in the demo (demo/data/documents.json)."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction

from chinhquyenso.accounts.models import Membership, Role, User
from chinhquyenso.core import audit
from chinhquyenso.org.models import Agency

PKI_FOLDER = "demo-pki"
PKI_PORT = 8794  # beside the other simulators' hand-started ports (core.simulators.DEFAULT_PORTS)
PASSPHRASE_FILE = "passphrase.txt"
SEAL_IMAGE = "con-dau-mau.png"
PRODUCTION_WARNING = (
    "PKI thử nghiệm của bản trình diễn ({path}): chỉ để trình diễn, KHÔNG dùng cho hệ thống thật "
    "(khóa CA không mã hóa, chứng thư không được ai ngoài bản trình diễn tin cậy)."
)


def pki_directory() -> Path:
    return Path(settings.DATA_DIR) / PKI_FOLDER


def passphrase_path() -> Path:
    return pki_directory() / PASSPHRASE_FILE


def load_demo_pki():
    """The demo PKI already generated in the data directory, or None."""
    from chinhquyenso.signing.pki import MANIFEST, load_pki

    directory = pki_directory()
    return load_pki(directory) if (directory / MANIFEST).exists() else None


def ensure_demo_pki():
    """The demo PKI: read back if generated before, else generated now (once) with a random
    passphrase written to passphrase.txt (readable by its owner only)."""
    from chinhquyenso.signing.pki import build_pki, write_seal_image

    existing = load_demo_pki()
    if existing is not None:
        return existing
    directory = pki_directory()
    passphrase = secrets.token_urlsafe(18)
    pki = build_pki(directory, base_url=f"http://127.0.0.1:{PKI_PORT}", passphrase=passphrase)
    path = passphrase_path()
    path.write_text(passphrase, encoding="utf-8")
    path.chmod(0o600)
    write_seal_image(directory / SEAL_IMAGE)
    return pki


def trust_roots(pki) -> list[str]:
    return [str(pki.root_cert_path)]


# ---------------------------------------------------------------- keys


def _pkcs12_key(issued, **fields):
    from chinhquyenso.signing.models import SigningKey

    return SigningKey(
        kind=SigningKey.Kind.PKCS12,
        key_path=str(issued.p12_path),
        passphrase_file=str(passphrase_path()),
        **fields,
    )


def create_agency_keys(pki, *, actor, agencies=None) -> int:
    """An agency seal key (PKCS#12, CN = the agency's name) for every current agency without an
    active one. Returns how many were created."""
    from chinhquyenso.signing.models import SigningKey

    agencies = list(agencies if agencies is not None else Agency.objects.current().select_related("parent"))
    _cache_ca_keys(pki)
    keyed = set(
        SigningKey.objects.filter(purpose=SigningKey.Purpose.AGENCY, active=True).values_list("agency_id", flat=True)
    )
    seal = str(pki_directory() / SEAL_IMAGE)
    rows = []
    for agency in agencies:
        if agency.pk in keyed:
            continue
        organization = agency.parent.name if agency.parent_id else agency.name
        # ECDSA P-256: a key in microseconds where RSA-2048 takes a quarter of a second, for some
        # 120 agencies; PAdES, pyHanko and pdfsig accept both (the leaders' keys are RSA).
        issued = pki.issue(agency.name, organization=organization, key=ec.generate_private_key(ec.SECP256R1()))
        rows.append(
            _pkcs12_key(
                issued,
                agency=agency,
                purpose=SigningKey.Purpose.AGENCY,
                signer_name=agency.name,
                seal_image_path=seal,
            )
        )
    _save_keys(rows, actor=actor, what="agency")
    return len(rows)


def _cache_ca_keys(pki) -> None:
    """TestPKI.issue reads the intermediate CA's key from its PEM file on every certificate, and
    loading (checking) an RSA key costs a tenth of a second: for some 120 agencies, read it once."""
    if not hasattr(pki.key, "cache_info"):
        pki.key = functools.cache(pki.key)


def create_personal_keys(pki, *, actor, users) -> int:
    """A personal key (CN = the person's name, O = their agency) for each of `users` without one."""
    from chinhquyenso.signing.models import SigningKey

    users = list(users)
    _cache_ca_keys(pki)
    keyed = set(
        SigningKey.objects.filter(purpose=SigningKey.Purpose.PERSONAL, active=True).values_list("user_id", flat=True)
    )
    agency_of = dict(
        Membership.objects.filter(user__in=users, agency__valid_to__isnull=True)
        .order_by("id")
        .values_list("user_id", "agency__name")
    )
    rows = []
    for user in users:
        if user.pk in keyed:
            continue
        issued = pki.issue(user.full_name, organization=agency_of.get(user.pk) or settings.CQS["PROVINCE_NAME"])
        rows.append(
            _pkcs12_key(
                issued,
                user=user,
                purpose=SigningKey.Purpose.PERSONAL,
                signer_name=user.full_name,
                signer_title="Lãnh đạo",
            )
        )
    _save_keys(rows, actor=actor, what="personal")
    return len(rows)


def _save_keys(rows, *, actor, what: str) -> None:
    from chinhquyenso.signing.models import SigningKey

    if not rows:
        return
    with transaction.atomic():
        SigningKey.objects.bulk_create(rows)
        # One record for the batch, as the demo's other bulk writes: which keys, never a passphrase.
        audit.record(
            actor=actor,
            action="demo.signing_keys",
            object_type="signing.SigningKey",
            object_id="demo",
            after={"purpose": what, "count": len(rows)},
        )


def leaders_of(agency_keys) -> list[User]:
    """The demo leaders `<key>.lanhdao` of the agencies named by their demo keys."""
    from chinhquyenso.demo.services import ROLE_SUFFIX

    usernames = [f"{key}.{ROLE_SUFFIX[Role.LEADER]}" for key in agency_keys]
    return list(User.objects.filter(username__in=usernames).order_by("username"))


# ---------------------------------------------------------------- the services process


@contextlib.contextmanager
def running_pki_services(pki):
    """The PKI services process (signing.pki_server) for `pki`, on PKI_PORT — the address its
    certificates name for OCSP and CRLs — or, when that port is taken, on a free one (time stamps
    work, revocation checks of the demo's certificates do not). Yields its base URL."""
    from chinhquyenso.signing.pki_server import start_pki_services

    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(start_pki_services(pki.directory))
        except RuntimeError:  # the port is taken (another demo?): a free one
            url = stack.enter_context(start_pki_services(pki.directory, port=0))
        yield url


def signing_settings(pki, url: str) -> dict:
    """The CQS settings that point signing at the demo PKI's services."""
    return {"SIGNING_TSA_URL": f"{url}/tsa", "SIGNING_TRUST_ROOTS": trust_roots(pki)}


@contextlib.contextmanager
def configured(pki, url: str):
    """settings.CQS pointed at the demo PKI while the block runs (seed-demo signs with it), then
    put back; an operator's own TSA and trust roots win."""
    previous = settings.CQS
    values = {k: v for k, v in signing_settings(pki, url).items() if not previous.get(k)}
    settings.CQS = {**previous, **values}
    try:
        yield
    finally:
        settings.CQS = previous


def environment_value(value) -> str:
    """A CQS setting as its environment variable spells it (lists of paths joined like PATH)."""
    if isinstance(value, list | tuple):
        return os.pathsep.join(str(item) for item in value)
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)

"""What the signing benchmarks share: a fresh test PKI and one agency with a PKCS#12 key issued by it
(bench_signing.py, bench_verify.py). Called after _common has set Django up."""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

PASSPHRASE_ENV = "CQS_BENCH_SIGNING_PASSPHRASE"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class AgencyKey:
    directory: Path  # the PKI's files, for start_pki_services
    pki: object  # signing.pki.TestPKI
    issued: object  # signing.pki.Issued: the agency's certificate and .p12
    key: object  # signing.models.SigningKey


def agency_key(prefix: str) -> AgencyKey:
    """A test PKI in a new temporary folder (its services' port free now) and Sở Tư pháp's agency key."""
    from chinhquyenso.org import services as org
    from chinhquyenso.org.models import AgencyKind
    from chinhquyenso.signing import pki
    from chinhquyenso.signing.models import SigningKey

    directory = Path(tempfile.mkdtemp(prefix=prefix))
    built = pki.build_pki(directory, base_url=f"http://127.0.0.1:{free_port()}")
    pki.write_seal_image(directory / "seal.png")
    agency = org.create_agency(
        actor=None, name="Sở Tư pháp", kind=AgencyKind.DEPARTMENT, electronic_code="000.00.15.H01", code="so-tu-phap"
    )
    issued = built.issue(agency.name, organization=agency.name)
    os.environ[PASSPHRASE_ENV] = built.passphrase
    key = SigningKey.objects.create(
        agency=agency,
        purpose=SigningKey.Purpose.AGENCY,
        kind=SigningKey.Kind.PKCS12,
        key_path=str(issued.p12_path),
        passphrase_env=PASSPHRASE_ENV,
        signer_name="Nguyễn Văn Ánh",
        seal_image_path=str(directory / "seal.png"),
    )
    return AgencyKey(directory, built, issued, key)

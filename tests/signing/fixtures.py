"""Signing fixtures, loaded for every test (tests/conftest.py names this module in pytest_plugins):

test_pki        (session) the test PKI (chinhquyenso.signing.pki.TestPKI), built once: root and
                intermediate CA, TSA and OCSP responder certificates; .issue(name, organization=…)
pki_services    the TSA/OCSP/CRL process for it (started once per session); this test's settings
                point at it: CQS["SIGNING_TSA_URL"], CQS["SIGNING_TRUST_ROOTS"] = [test root]
signing_keys    .for_agency(agency, **fields) / .for_user(user, title=…, **fields) → a saved SigningKey
                with a PKCS#12 file the test CA issued (passphrase from an environment variable),
                .issued[key.pk] → the pki.Issued (certificate, key, serial) for revocation tests
sample_pdf      a 2-page A4 PDF (bytes)
"""

import socket

import pytest

from chinhquyenso.signing import pki as test_pki_module

PASSPHRASE_ENV = "CQS_TEST_SIGNING_PASSPHRASE"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    pki = test_pki_module.build_pki(directory, base_url=f"http://127.0.0.1:{_free_port()}")
    test_pki_module.write_seal_image(directory / "seal.png")
    return pki


@pytest.fixture(scope="session")
def _pki_services_process(test_pki):
    from chinhquyenso.signing.pki_server import start_pki_services

    with start_pki_services(test_pki.directory) as url:
        yield url


class PKIServicesHandle:
    def __init__(self, url: str, pki):
        self.url = url
        self.pki = pki
        self.tsa_url = f"{url}/tsa"


@pytest.fixture
def signing_settings(test_pki, monkeypatch):
    """Trust roots = the test root; a TSA address nobody answers unless pki_services is used."""
    from django.conf import settings

    monkeypatch.setitem(settings.CQS, "SIGNING_TRUST_ROOTS", [str(test_pki.root_cert_path)])
    monkeypatch.setitem(settings.CQS, "SIGNING_TSA_URL", f"http://127.0.0.1:{_free_port()}/tsa")
    monkeypatch.setitem(settings.CQS, "SIGNING_TIMEOUT_SECONDS", 5)
    monkeypatch.setenv(PASSPHRASE_ENV, test_pki.passphrase)


@pytest.fixture
def pki_services(_pki_services_process, test_pki, signing_settings, monkeypatch):
    from django.conf import settings

    monkeypatch.setitem(settings.CQS, "SIGNING_TSA_URL", f"{_pki_services_process}/tsa")
    return PKIServicesHandle(_pki_services_process, test_pki)


class SigningKeys:
    def __init__(self, pki):
        self.pki = pki
        self.issued = {}

    def for_agency(self, agency, **fields):
        from chinhquyenso.signing.models import SigningKey

        issued = self.pki.issue(agency.name, organization=agency.name)
        fields.setdefault("signer_name", "Nguyễn Văn Ánh")
        fields.setdefault("seal_image_path", str(self.pki.path("seal.png")))
        key = SigningKey.objects.create(
            agency=agency,
            purpose=SigningKey.Purpose.AGENCY,
            kind=SigningKey.Kind.PKCS12,
            key_path=str(issued.p12_path),
            passphrase_env=PASSPHRASE_ENV,
            **fields,
        )
        self.issued[key.pk] = issued
        return key

    def for_user(self, user, *, title: str = "Giám đốc", **fields):
        from chinhquyenso.signing.models import SigningKey

        name = getattr(user, "full_name", "") or user.get_username()
        agency_name = fields.pop("organization", test_pki_module.ORGANIZATION)
        issued = self.pki.issue(name, organization=agency_name)
        key = SigningKey.objects.create(
            user=user,
            purpose=SigningKey.Purpose.PERSONAL,
            kind=SigningKey.Kind.PKCS12,
            key_path=str(issued.p12_path),
            passphrase_env=PASSPHRASE_ENV,
            signer_name=name,
            signer_title=title,
            **fields,
        )
        self.issued[key.pk] = issued
        return key


@pytest.fixture
def signing_keys(db, test_pki, signing_settings):
    return SigningKeys(test_pki)


@pytest.fixture
def sample_pdf():
    return test_pki_module.sample_pdf(pages=2)

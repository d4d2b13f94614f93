"""PKCS#11 through SoftHSM2 (Debian's softhsm2): the key is generated on the token and never leaves
it; the test CA certifies its public key; sign_pdf signs through pyHanko's PKCS11Signer."""

import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

from chinhquyenso.signing.models import SigningKey
from chinhquyenso.signing.services import Appearance, SigningError, check_key, sign_pdf
from tests.external_tools import program_missing, require
from tests.signing.helpers import assert_none_in, assert_valid, every_log_line, statuses

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "CQS Thu nghiem"
KEY_LABEL = "cqs-ky-so"
PIN = "123456"
SO_PIN = "12345678"

pytestmark = pytest.mark.django_db


def softhsm2_missing() -> str | None:
    if not Path(MODULE).exists():
        return f"SoftHSM2's PKCS#11 module not found at {MODULE}: apt-get install softhsm2 (.ci/run installs it)"
    return program_missing("softhsm2-util", "softhsm2")


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory, test_pki):
    """A SoftHSM2 token with an RSA key generated on it, its certificate and the intermediate's.
    SOFTHSM2_CONF is set for the whole session: the module reads it once, when first loaded.
    Without SoftHSM2 every test here is skipped, or fails under CQS_REQUIRE_TOOLS=1 (tests/external_tools.py)."""
    require(softhsm2_missing())
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.x509 import decode_x509_certificate

    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
        check=True,
        capture_output=True,
    )
    token = pkcs11.lib(MODULE).get_token(token_label=TOKEN)
    with token.open(rw=True, user_pin=PIN) as session:
        public, _private = session.generate_keypair(
            KeyType.RSA, 2048, store=True, label=KEY_LABEL, id=b"\x01", private_template={Attribute.SENSITIVE: True}
        )
        numbers = RSAPublicNumbers(
            int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"), int.from_bytes(public[Attribute.MODULUS], "big")
        )
        cert_path = test_pki.issue_for_public_key("Lê Văn Hùng", numbers.public_key(), organization="Sở Nội vụ")
        for label, path, object_id in (
            (KEY_LABEL, cert_path, b"\x01"),
            ("cqs-ca-trung-gian", test_pki.intermediate_cert_path, b"\x02"),
        ):
            der = x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(serialization.Encoding.DER)
            attrs = decode_x509_certificate(der)
            attrs.update({Attribute.LABEL: label, Attribute.ID: object_id, Attribute.TOKEN: True})
            session.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE, **attrs})
    yield TOKEN
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def token_key(softhsm_token, province, signing_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("CQS_TEST_TOKEN_PIN", PIN)
    return SigningKey.objects.create(
        agency=province["tu_phap"],
        purpose=SigningKey.Purpose.AGENCY,
        kind=SigningKey.Kind.PKCS11,
        module_path=MODULE,
        token_label=softhsm_token,
        key_label=KEY_LABEL,
        passphrase_env="CQS_TEST_TOKEN_PIN",
        signer_name="Lê Văn Hùng",
    )


def test_signs_through_softhsm2_and_validates(token_key, sample_pdf, test_pki, pki_services):
    signed = sign_pdf(sample_pdf, key=token_key, profile="B-T", appearance=Appearance(kind="agency"))
    _, (status,) = statuses(signed, test_pki, allow_fetching=False)
    assert_valid(status)
    assert status.signing_cert.subject.native["common_name"] == "Lê Văn Hùng"
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted


def test_the_key_never_left_the_token(softhsm_token):
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    token = pkcs11.lib(MODULE).get_token(token_label=softhsm_token)
    with token.open(user_pin=PIN) as session:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=KEY_LABEL)
        assert private[Attribute.SENSITIVE] and not private[Attribute.EXTRACTABLE]


def test_check_key_fills_the_fingerprint(token_key):
    result = check_key(token_key)
    token_key.refresh_from_db()
    assert token_key.certificate_fingerprint == result.fingerprint and len(result.fingerprint) == 64
    assert "Lê Văn Hùng" in token_key.certificate_subject


def test_wrong_pin_refused(token_key, sample_pdf, monkeypatch):
    monkeypatch.setenv("CQS_TEST_TOKEN_PIN", "000000")
    with pytest.raises(SigningError) as refused:
        sign_pdf(sample_pdf, key=token_key, profile="B-B")
    assert "PIN" in refused.value.message and "000000" not in refused.value.message


def test_a_wrong_pin_is_not_logged(token_key, sample_pdf, monkeypatch):
    """Every log line of the process, at DEBUG (pyHanko's and python-pkcs11's included), while a wrong PIN
    is refused: neither that PIN nor the token's real one."""
    monkeypatch.setenv("CQS_TEST_TOKEN_PIN", "Sai-PIN-4729")
    with every_log_line() as lines, pytest.raises(SigningError, match="PIN"):
        sign_pdf(sample_pdf, key=token_key, profile="B-B")
    assert any(f"signing with key {token_key.pk} (B-B) refused" in line for line in lines), lines
    assert_none_in(lines, ["Sai-PIN-4729", f"'{PIN}'", f"pin={PIN}", SO_PIN])


def test_unknown_token_refused(token_key, sample_pdf):
    token_key.token_label = "Khong co token nay"
    with pytest.raises(SigningError, match="Không mở được thiết bị ký số"):
        sign_pdf(sample_pdf, key=token_key, profile="B-B")

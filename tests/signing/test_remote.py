"""Remote signing through the data bus to the eSign gateway simulator (its own process), which really
signs with a key the test CA issued to the subscriber; pyHanko validates the result."""

import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange import connectors
from chinhquyenso.exchange.connectors import testing
from chinhquyenso.exchange.models import BusLogEntry
from chinhquyenso.signing.models import SigningKey
from chinhquyenso.signing.remote import check_signature
from chinhquyenso.signing.services import Appearance, SigningError, sign_pdf
from chinhquyenso.signing.signers import RemoteSignature
from tests.signing.helpers import assert_none_in, assert_valid, every_log_line, key_material, statuses

# The signature value is asked for from a worker thread (signers.RemoteSigner): it sees committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIBER, DECLINES, UNKNOWN = "NEAC-0001", "NEAC-0009", "NEAC-4040"


@pytest.fixture
def esign(test_pki, signing_settings, settings, tmp_path):
    settings.CQS = {**settings.CQS, "BUS_CIRCUIT_FAILURES": 100, "SIGNING_REMOTE_TIMEOUT_SECONDS": 2}
    subscribers = {}
    for user_id, name in ((SUBSCRIBER, "Lê Thị Mai"), (DECLINES, "Phạm Văn Tâm")):
        issued = test_pki.issue(name, organization="UBND tỉnh An Giang")
        subscribers[user_id] = {
            "key": str(issued.key_path),
            "cert": str(issued.cert_path),
            "chain": [str(test_pki.intermediate_cert_path), str(test_pki.root_cert_path)],
        }
    table = tmp_path / "subscribers.json"
    subscriber_keys = {user_id: entry["key"] for user_id, entry in subscribers.items()}
    table.write_text(json.dumps(subscribers))
    # The simulator never calls our bus back: no live server needed.
    with testing.start_simulator(
        "esign", bus_url="http://127.0.0.1:9", delay=0.05, extra=("--subscribers", str(table))
    ) as simulator:
        simulator.subscriber_keys = subscriber_keys  # the private keys the simulator signs with (PEM paths)
        yield simulator


def remote_key(user, user_id=SUBSCRIBER):
    return SigningKey.objects.create(
        user=user,
        purpose=SigningKey.Purpose.PERSONAL,
        kind=SigningKey.Kind.REMOTE,
        remote_user_id=user_id,
        signer_name="Lê Thị Mai",
        signer_title="Phó Chủ tịch",
    )


def test_remote_signature_is_real_and_validates(esign, officers, sample_pdf, test_pki, pki_services):
    key = remote_key(next(iter(officers["ubnd"].values())))
    signed = sign_pdf(sample_pdf, key=key, profile="B-T", appearance=Appearance(kind="personal"))
    _, (status,) = statuses(signed, test_pki, allow_fetching=False)
    assert_valid(status)
    assert status.signing_cert.subject.native["common_name"] == "Lê Thị Mai"
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    # Both calls went through the bus, logged under the connector's service.
    calls = BusLogEntry.objects.filter(service=connectors.service_id("esign"))
    assert calls.count() >= 2


def test_declined_by_the_subscriber(esign, officers, sample_pdf):
    key = remote_key(next(iter(officers["ubnd"].values())), DECLINES)
    before = AuditRecord.objects.filter(action="signing.sign").count()
    with pytest.raises(SigningError, match="từ chối"):
        sign_pdf(sample_pdf, key=key, profile="B-B")
    assert AuditRecord.objects.filter(action="signing.sign").count() == before


def test_a_declined_signature_logs_no_key(esign, officers, sample_pdf):
    """Every log line of the process, at DEBUG, while the gateway answers that the subscriber declined:
    nothing of the subscriber's key (the simulator's), only the refusal."""
    key = remote_key(next(iter(officers["ubnd"].values())), DECLINES)
    with every_log_line() as lines, pytest.raises(SigningError, match="từ chối"):
        sign_pdf(sample_pdf, key=key, profile="B-B")
    assert any(f"signing with key {key.pk} (B-B) refused" in line for line in lines), lines
    assert_none_in(
        lines, key_material(esign.subscriber_keys[DECLINES]) + key_material(esign.subscriber_keys[SUBSCRIBER])
    )


def test_unknown_subscriber(esign, officers, sample_pdf):
    key = remote_key(next(iter(officers["ubnd"].values())), UNKNOWN)
    with pytest.raises(SigningError, match="Không tìm thấy thuê bao"):
        sign_pdf(sample_pdf, key=key, profile="B-B")


def test_timeout_refused(esign, officers, sample_pdf):
    key = remote_key(next(iter(officers["ubnd"].values())))
    esign.fail(count=2, status=200, delay=4)  # past SIGNING_REMOTE_TIMEOUT_SECONDS
    with pytest.raises(SigningError, match="không phản hồi kịp"):
        sign_pdf(sample_pdf, key=key, profile="B-B")


def test_gateway_not_configured(officers, sample_pdf, signing_settings, settings):
    from chinhquyenso.exchange.bus import registry

    registry.load_defaults()
    settings.CQS = {**settings.CQS, "ESIGN_BASE_URL": ""}
    registry.invalidate()
    key = remote_key(next(iter(officers["ubnd"].values())))
    with pytest.raises(SigningError, match="Không ký số từ xa được"):
        sign_pdf(sample_pdf, key=key, profile="B-B")


def test_a_signature_over_another_digest_is_refused(test_pki):
    """check_signature: a gateway answer that does not verify never reaches the PDF."""
    issued = test_pki.issue("Đỗ Thị Lan")
    digest = hashlib.sha256(b"ban goc").digest()
    other = hashlib.sha256(b"ban khac").digest()
    der = issued.certificate.public_bytes(serialization.Encoding.DER)
    value = issued.private_key().sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    answer = RemoteSignature(signature=value, certificate=der)
    check_signature(answer, digest, "sha256")
    with pytest.raises(SigningError, match="không khớp"):
        check_signature(answer, other, "sha256")

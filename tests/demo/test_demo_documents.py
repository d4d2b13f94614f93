"""`cqs seed-demo`'s signatures and documents (demo.documents, demo.signing): the demo PKI, keys for
every agency and the exchanging agencies' leaders, clerks, documents flowing between agencies at
every stage, and the demo citizens' signed e-results.

The province (40 dossiers) is built once for the module inside a transaction rolled back at the end,
marked as the test runner's own (as Django's TestCase marks its wrapping transaction): signing,
which never runs inside a transaction the code opened, runs here as it does in every `db` test."""

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from chinhquyenso.accounts.models import Membership, Role, User
from chinhquyenso.demo import documents as demo_documents
from chinhquyenso.demo import signing as demo_signing
from chinhquyenso.demo.management.commands import demo as demo_command
from chinhquyenso.demo.services import DEMO_PASSWORD, parse_account_lines
from chinhquyenso.documents.models import Assignment, Direction, Document, Recipient
from chinhquyenso.dossiers.models import ElectronicResult
from chinhquyenso.org.models import Agency
from chinhquyenso.signing.models import SigningKey
from chinhquyenso.signing.verify import overall, verify_pdf

UNTIL = dt.date(2025, 12, 31)
Status = Document.Status


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    media = tmp_path_factory.mktemp("files")
    test_settings = override_settings(
        DATA_DIR=data_dir,
        MEDIA_ROOT=media,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Its own checkpoint file (see test_demo_opendata.py): a rolled-back province's checkpoints end another chain.
        AUDIT_CHECKPOINT_DIR=tmp_path_factory.mktemp("audit-checkpoints"),
    )
    with django_db_blocker.unblock(), test_settings:
        outer = transaction.atomic()
        outer._from_testcase = True  # the runner's transaction: core.workflow.in_transaction() ignores it
        outer.__enter__()
        try:
            out, err = StringIO(), StringIO()
            # The open data has its own module (test_demo_opendata.py).
            call_command(
                "seed_demo",
                dossiers=40,
                until=UNTIL,
                stdout=out,
                stderr=err,
                no_opendata=True,
                no_persons=True,
                no_pests=True,
            )
            yield {"output": out.getvalue(), "errors": err.getvalue(), "data_dir": data_dir, "media": media}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(seeded, settings, db):
    """The module's province, with the settings it was built with (the autouse _test_settings gives
    each test its own empty files folder) and the demo PKI's root as the trust root."""
    settings.DATA_DIR = seeded["data_dir"]
    settings.MEDIA_ROOT = seeded["media"]
    root = str(Path(seeded["data_dir"]) / demo_signing.PKI_FOLDER / "root.cert.pem")
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": [root]}
    return seeded


def read(stored) -> bytes:
    with stored.file.open("rb") as handle:
        return handle.read()


def test_seed_demo_says_what_it_made_and_that_the_pki_is_not_for_production(demo):
    assert demo["errors"] == ""
    output = demo["output"]
    assert "KHÔNG dùng cho hệ thống thật" in output
    assert "Chữ ký số:" in output and "văn bản đi" in output and "kết quả điện tử có chữ ký số" in output


def test_documents_exist_at_every_stage_in_several_agencies_registers(demo):
    outgoing = Document.objects.filter(direction=Direction.OUTGOING)
    assert {Status.DRAFT, Status.IN_REVIEW, Status.SIGNED, Status.ISSUED, Status.RECALLED, Status.REPLACED} <= set(
        outgoing.values_list("status", flat=True)
    )
    incoming = Document.objects.filter(direction=Direction.INCOMING)
    assert {Status.REGISTERED, Status.ASSIGNED, Status.IN_PROCESS, Status.DONE} <= set(
        incoming.values_list("status", flat=True)
    )
    # Numbered in the issuing agencies' outgoing registers and the receivers' incoming registers.
    issued = outgoing.filter(status__in=[Status.ISSUED, Status.RECALLED, Status.REPLACED])
    assert issued.values("register__agency").distinct().count() >= 3
    assert not issued.filter(number__isnull=True).exists() and not issued.filter(symbol="").exists()
    assert incoming.values("register__agency").distinct().count() >= 2
    assert not incoming.filter(arrival_number__isnull=True).exists()
    # An internal delivery is the sender's recipient row and the receiver's register entry at once.
    delivered = Recipient.objects.filter(channel=Recipient.Channel.INTERNAL, incoming_document__isnull=False)
    assert delivered.values("incoming_document__agency").distinct().count() >= 3
    assert {"received", "assigned", "in_process", "done"} <= set(delivered.values_list("status", flat=True))
    # The replacement keeps its link; the overdue paper document's deadline has passed, still open.
    replaced = outgoing.get(status=Status.REPLACED)
    assert replaced.replaced_by.get().status == Status.ISSUED
    today = timezone.localdate()
    assert Assignment.objects.filter(
        status__in=[Assignment.Status.ASSIGNED, Assignment.Status.IN_PROCESS], deadline__lt=today
    ).exists()


def test_a_document_outside_the_province_is_queued_for_the_e_document_exchange(demo):
    from chinhquyenso.exchange.models import Message

    [recipient] = Recipient.objects.filter(channel=Recipient.Channel.BUS)
    assert recipient.document.status == Status.ISSUED and recipient.electronic_code == "000.00.00.H29"
    assert Message.objects.filter(kind__startswith="documents.").exists()


def test_an_issued_document_carries_the_leaders_and_the_agencys_valid_signatures(demo):
    document = Document.objects.filter(direction=Direction.OUTGOING, status=Status.ISSUED).order_by("id").first()
    reports = verify_pdf(read(document.current_file))
    assert overall(reports) == "valid"
    assert [r.signer for r in reports] == [document.signer.full_name, document.agency.name]
    assert all(r.timestamped and r.chain_trusted and not r.modified_after_signing for r in reports)
    # The received copy is the same signed file.
    copy = Recipient.objects.filter(document=document, incoming_document__isnull=False).first().incoming_document
    assert copy.current_file.sha256 == document.current_file.sha256


def test_every_current_agency_has_a_seal_key_and_the_exchanging_leaders_personal_keys(demo):
    current = set(Agency.objects.current().values_list("pk", flat=True))
    agency_keys = SigningKey.objects.filter(purpose=SigningKey.Purpose.AGENCY, active=True)
    assert set(agency_keys.values_list("agency_id", flat=True)) == current
    leaders = {f"{key}.lanhdao" for key in demo_documents.agency_keys()}
    personal = SigningKey.objects.filter(purpose=SigningKey.Purpose.PERSONAL, active=True)
    assert set(personal.values_list("user__username", flat=True)) == leaders
    # Key material stays in files of the demo PKI; the database holds their paths only.
    pki_dir = Path(demo["data_dir"]) / demo_signing.PKI_FOLDER
    for key in SigningKey.objects.all():
        assert Path(key.key_path).parent == pki_dir and Path(key.key_path).is_file()
        assert key.passphrase_file == str(pki_dir / demo_signing.PASSPHRASE_FILE)
    assert (pki_dir / demo_signing.PASSPHRASE_FILE).stat().st_mode & 0o077 == 0


def test_the_demo_citizens_results_are_signed_and_their_qr_page_says_valid(demo, client):
    citizens = User.objects.filter(kind=User.Kind.CITIZEN).exclude(password__startswith="!")
    results = ElectronicResult.objects.filter(dossier__applicant__in=citizens).select_related("edata_item")
    assert results.count() == 2
    for result in results:
        assert result.signed and result.edata_item.owner_id == result.dossier.applicant_id
        assert result.edata_item.file_id == result.file_id
        reports = verify_pdf(read(result.file))
        assert overall(reports) == "valid" and reports[-1].signer == result.dossier.current_agency.name
        page = client.get(f"/xac-thuc/ket-qua/{result.verification_code}/")
        assert page.status_code == 200
        assert "Hợp lệ" in page.content.decode() or "hợp lệ" in page.content.decode()


def test_the_printed_clerks_sign_in_and_open_their_pages(demo, client):
    accounts = {a.username: a for a in parse_account_lines(demo["output"])}
    clerks = [demo_documents.clerk_username(key) for key in demo_documents.agency_keys()]
    assert set(clerks) <= set(accounts)
    for username in clerks:
        user = User.objects.get(username=username)
        assert Membership.objects.filter(user=user, role=Role.CLERK, agency__valid_to__isnull=True).exists()
        assert client.login(username=username, password=DEMO_PASSWORD)
        for path in accounts[username].pages:
            assert client.get(path).status_code == 200, (username, path)
        client.logout()
    assert "/can-bo/van-ban/" in accounts["so-tu-phap.lanhdao"].pages


def test_the_demo_runs_the_pki_services_for_its_server_and_worker(demo, settings):
    settings.CQS = {**settings.CQS, "SIGNING_TSA_URL": "", "SIGNING_TRUST_ROOTS": []}
    demo_command.SIMULATOR_SETTINGS.clear()
    out = StringIO()
    services = demo_command.start_pki_services(out)
    try:
        assert services is not None and "Dịch vụ PKI thử nghiệm" in out.getvalue()
        environment = demo_command.simulator_environment()
        assert environment["CQS_SIGNING_TSA_URL"] == django_settings.CQS["SIGNING_TSA_URL"]
        roots = environment["CQS_SIGNING_TRUST_ROOTS"].split(":")
        assert roots == django_settings.CQS["SIGNING_TRUST_ROOTS"] and Path(roots[0]).is_file()
        # The web server's process signs with it: a B-T signature is time-stamped by that process.
        from chinhquyenso.signing.pki import sample_pdf
        from chinhquyenso.signing.services import agency_key, sign_pdf

        signed = sign_pdf(sample_pdf(), key=agency_key(Agency.objects.current().first().pk), profile="B-T")
        assert verify_pdf(signed)[0].timestamped
    finally:
        if services is not None:
            services.close()
        demo_command.SIMULATOR_SETTINGS.clear()


def test_without_a_demo_pki_the_demo_says_signing_is_unavailable(settings, tmp_path, db):
    settings.DATA_DIR = tmp_path
    settings.CQS = {**settings.CQS, "SIGNING_TSA_URL": ""}
    out = StringIO()
    assert demo_command.start_pki_services(out) is None
    assert "Chưa có PKI thử nghiệm" in out.getvalue()

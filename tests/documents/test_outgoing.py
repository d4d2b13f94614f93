"""Outgoing documents (văn bản đi) end to end: a draft with versions and comments, approval step by
step per the agency's flow, the leader's personal signature and the clerk's issue (number, agency
signature, distribution into another agency's incoming register), recall and replacement, secret
documents refused, and a failed agency signature that keeps the reserved number."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole, Role
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.core.uploads import store_generated
from chinhquyenso.documents import services
from chinhquyenso.documents.models import (
    ApprovalFlow,
    ApprovalStep,
    Direction,
    Document,
    DocumentType,
    Recipient,
)
from chinhquyenso.documents.services import distribution
from chinhquyenso.exchange.models import Message
from tests.conftest import vn
from tests.signing.helpers import assert_valid, statuses

Status = Document.Status


@pytest.fixture
def bb_profile(settings, signing_settings):
    """PAdES-B-B: no time-stamp authority needed (the B-T path is the signer's, tested there)."""
    settings.CQS["SIGNING_DEFAULT_PROFILE"] = "B-B"


def stored(pdf: bytes, user=None):
    return store_generated(pdf, content_type="application/pdf", extension="pdf", name="du-thao.pdf", user=user)


def draft(officers, province, sample_pdf, *, agency="tu_phap", type_code="quyet-dinh", **fields):
    fields.setdefault("recipients", [{"agency": province["ubnd"]}])
    return services.create_draft(
        officers[agency]["specialist"],
        agency=province[agency],
        document_type=type_code,
        excerpt=fields.pop("excerpt", "Quyết định về việc công bố thủ tục hành chính mới ban hành"),
        file=stored(sample_pdf),
        signer_name=fields.pop("signer_name", "Trần Văn Bình"),
        signer_title=fields.pop("signer_title", "Giám đốc"),
        **fields,
    )


def approved(officers, province, sample_pdf, **fields):
    document = draft(officers, province, sample_pdf, **fields)
    agency = fields.get("agency", "tu_phap")
    services.submit(document, officers[agency]["specialist"])
    services.approve(document, officers[agency]["leader"])
    return document


@pytest.fixture
def keys(signing_keys, officers, province, bb_profile):
    """The Sở Tư pháp's seal key and its leader's personal key."""
    signing_keys.for_agency(province["tu_phap"])
    signing_keys.for_user(officers["tu_phap"]["leader"], title="Giám đốc")
    return signing_keys


def signed_and_issued(officers, province, sample_pdf, **fields):
    agency = fields.get("agency", "tu_phap")
    document = approved(officers, province, sample_pdf, **fields)
    services.sign(document, officers[agency]["leader"])
    return services.issue(document, officers[agency]["clerk"])


@pytest.mark.django_db(transaction=True)
def test_a_draft_is_approved_signed_issued_and_arrives_in_the_recipients_register(
    officers, province, sample_pdf, keys, test_pki
):
    document = draft(officers, province, sample_pdf, deadline="2026-12-31")
    assert document.status == Status.DRAFT and document.versions.count() == 1
    services.comment(document, officers["tu_phap"]["leader"], "Đề nghị bổ sung căn cứ pháp lý.")
    services.add_version(document, officers["tu_phap"]["specialist"], file=stored(sample_pdf + b"\n"), note="Sửa")
    services.submit(document, officers["tu_phap"]["specialist"])
    assert document.status == Status.IN_REVIEW
    assert services.current_step(document).role == Role.LEADER  # the shipped default flow
    services.approve(document, officers["tu_phap"]["leader"], note="Đồng ý ban hành")
    assert document.status == Status.APPROVED

    services.sign(document, officers["tu_phap"]["leader"])
    assert document.status == Status.SIGNED and document.signature_count == 1 and document.signed
    issued = services.issue(document, officers["tu_phap"]["clerk"], at=vn(2026, 12, 6, 9))
    assert issued.status == Status.ISSUED
    assert (issued.number, issued.symbol) == (1, "01/QĐ-STP")
    assert issued.issued_on.isoformat() == "2026-12-06" and issued.register.year == 2026
    assert issued.signature_count == 2 and issued.electronic
    assert [v.kind for v in issued.versions.order_by("number")] == ["draft", "draft", "personal_signed", "issued"]

    # Both signatures (the leader's, then the agency's) verify with pyHanko against the test root.
    with issued.current_file.file.open("rb") as handle:
        _, found = statuses(handle.read(), test_pki, allow_fetching=False)
    assert len(found) == 2
    for status in found:
        assert_valid(status)

    # The UBND tỉnh has it in its incoming register, numbered, registered, with the sender's link.
    [recipient] = issued.recipients.all()
    assert recipient.status == Recipient.Status.RECEIVED and recipient.received_at is not None
    incoming = recipient.incoming_document
    assert incoming.direction == Direction.INCOMING and incoming.agency == province["ubnd"]
    assert incoming.status == Status.REGISTERED and incoming.arrival_number == 1
    assert incoming.register.direction == Direction.INCOMING and incoming.register.agency == province["ubnd"]
    assert (incoming.symbol, incoming.source_document, incoming.sender_agency) == (
        "01/QĐ-STP",
        issued,
        province["tu_phap"],
    )
    assert incoming.current_file == issued.current_file and incoming.deadline.isoformat() == "2026-12-31"
    # The UBND's clerk is told; the audit chain has every step without the excerpt.
    assert Message.objects.filter(kind="documents.incoming_arrived", user=officers["ubnd"]["clerk"]).exists()
    actions = list(AuditRecord.objects.filter(action__startswith="documents.").values_list("action", flat=True))
    for action in ("create", "comment", "add_version", "submit", "approve", "sign", "number", "issue", "receive"):
        assert f"documents.{action}" in actions
    assert not AuditRecord.objects.filter(after__icontains="thủ tục hành chính").exists()

    # The receiver reports its progress; the sender sees it on the recipient row and its timeline.
    with transaction.atomic():
        distribution.report_status(incoming, "assigned", officers["ubnd"]["leader"])
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.ASSIGNED and recipient.assigned_at is not None
    with transaction.atomic():
        distribution.report_status(incoming, "received", officers["ubnd"]["leader"])  # late: never moves back
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.ASSIGNED
    assert issued.steps.filter(action="recipient_status", recipient=recipient).count() == 1


def test_a_multi_step_flow_is_approved_in_order_by_each_steps_role(officers, province, sample_pdf):
    flow = ApprovalFlow.objects.create(agency=province["tu_phap"], name="Hai bước")
    ApprovalStep.objects.create(flow=flow, order=1, role=Role.SPECIALIST, name="Chuyên viên kiểm tra thể thức")
    ApprovalStep.objects.create(flow=flow, order=2, role=Role.LEADER, name="Lãnh đạo phê duyệt")
    document = draft(officers, province, sample_pdf)
    services.submit(document, officers["tu_phap"]["specialist"])
    assert services.current_step(document).order == 1
    with pytest.raises(PermissionDenied):
        services.approve(document, officers["tu_phap"]["clerk"])
    services.approve(document, officers["tu_phap"]["specialist"])
    assert document.status == Status.IN_REVIEW and services.current_step(document).order == 2
    assert not services.can_act(document, officers["tu_phap"]["specialist"], "approve")
    assert services.can_act(document, officers["tu_phap"]["leader"], "approve")
    with pytest.raises(PermissionDenied):
        services.approve(document, officers["tu_phap"]["specialist"])
    services.return_for_changes(document, officers["tu_phap"]["leader"], "Sửa lại trích yếu")
    assert (document.status, document.approval_step) == (Status.DRAFT, 0)
    services.update_draft(document, officers["tu_phap"]["specialist"], excerpt="Quyết định (đã sửa trích yếu)")
    services.submit(document, officers["tu_phap"]["specialist"])
    services.approve(document, officers["tu_phap"]["specialist"])
    services.approve(document, officers["tu_phap"]["leader"])
    assert document.status == Status.APPROVED and document.excerpt == "Quyết định (đã sửa trích yếu)"
    # Outgoing documents are searchable too (documents.search), without diacritics.
    assert "quyet dinh da sua trich yeu" in Document.objects.get(pk=document.pk).search_text
    assert [s.action for s in document.steps.all()] == [
        "create",
        "submit",
        "review",
        "return",
        "update",
        "submit",
        "review",
        "approve",
    ]


def test_secret_documents_are_refused_with_a_message_and_never_stored(officers, province, sample_pdf):
    for level in ("secret", "top_secret", "absolute_secret"):
        with pytest.raises(DomainError) as refused:
            draft(officers, province, sample_pdf, confidentiality=level)
        assert refused.value.field == "confidentiality" and "bí mật nhà nước" in refused.value.message
    assert not Document.objects.exists()
    document = draft(officers, province, sample_pdf)
    with pytest.raises(DomainError):
        services.update_draft(document, officers["tu_phap"]["specialist"], confidentiality="secret")
    # The database refuses it too, whatever path a write takes.
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=document.pk).update(confidentiality="secret")


def test_only_members_draft_and_read_only_accounts_are_refused(officers, province, sample_pdf, admin_user):
    with pytest.raises(PermissionDenied):
        services.create_draft(
            officers["cong_an"]["specialist"],
            agency=province["tu_phap"],
            document_type="cong-van",
            excerpt="V/v thử",
            file=stored(sample_pdf),
        )
    auditor = accounts.create_officer(
        actor=admin_user,
        username="kiem.tra",
        password="Mat-khau-2025",
        full_name="Kiểm tra viên",
        global_role=GlobalRole.AUDITOR,
    )
    document = draft(officers, province, sample_pdf)
    with pytest.raises(PermissionDenied):
        services.submit(document, auditor)
    with pytest.raises(DomainError) as refused:
        services.create_draft(
            officers["tu_phap"]["specialist"],
            agency=province["tu_phap"],
            document_type="khong-co",
            excerpt="V/v thử",
            file=stored(sample_pdf),
        )
    assert refused.value.field == "document_type"


def test_recipients_are_checked_and_sorted_into_channels(officers, province, sample_pdf):
    document = draft(
        officers,
        province,
        sample_pdf,
        recipients=[
            {"agency": province["ubnd"].pk},
            {"electronic_code": "000.07.01.H01", "name": "ignored: it is ours"},
            {"electronic_code": "000.00.00.G06", "name": "Bộ Công an"},
            {"paper": "Lưu: VT, VP."},
        ],
    )
    channels = {r.name: r.channel for r in document.recipients.all()}
    assert channels == {
        "UBND tỉnh An Giang": "internal",
        "UBND xã Kiến An": "internal",
        "Bộ Công an": "bus",
        "Lưu: VT, VP.": "paper",
    }
    for bad, field in (
        ([{"agency": province["tu_phap"]}], "recipients.0"),
        ([{"electronic_code": "abc", "name": "X"}], "recipients.0"),
        ([{"agency": province["ubnd"]}, {"agency": province["ubnd"]}], "recipients.1"),
        ([{}], "recipients.0"),
    ):
        with pytest.raises(DomainError) as refused:
            services.set_recipients(document, officers["tu_phap"]["specialist"], bad)
        assert refused.value.field == field
    assert document.recipients.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_failed_agency_signature_keeps_the_number_and_a_retry_issues_with_it(
    officers, province, sample_pdf, signing_keys, bb_profile
):
    signing_keys.for_user(officers["tu_phap"]["leader"])
    document = approved(officers, province, sample_pdf)
    services.sign(document, officers["tu_phap"]["leader"])
    with pytest.raises(DomainError) as refused:  # the Sở has no agency key yet
        services.issue(document, officers["tu_phap"]["clerk"], at=vn(2026, 3, 2, 8))
    assert "01/QĐ-STP" in refused.value.message and "ban hành lại" in refused.value.message
    document.refresh_from_db()
    assert (document.status, document.number, document.symbol) == (Status.NUMBERED, 1, "01/QĐ-STP")
    assert document.issue_error and document.signature_count == 1
    assert not Recipient.objects.filter(status=Recipient.Status.RECEIVED).exists()  # never half-issued
    assert services.can_act(document, officers["tu_phap"]["clerk"], "issue")

    signing_keys.for_agency(province["tu_phap"])
    services.issue(document, officers["tu_phap"]["clerk"], at=vn(2026, 3, 2, 9))
    assert (document.status, document.number, document.issue_error) == (Status.ISSUED, 1, "")
    # The next document takes the next number: no gap, no duplicate.
    second = signed_and_issued(officers, province, sample_pdf)
    assert (second.number, second.symbol) == (2, "02/QĐ-STP")


@pytest.mark.django_db(transaction=True)
def test_issue_needs_the_clerk_and_the_leaders_signature(officers, province, sample_pdf, keys):
    document = approved(officers, province, sample_pdf)
    with pytest.raises(DomainError):
        services.issue(document, officers["tu_phap"]["clerk"])  # not signed yet
    with pytest.raises(PermissionDenied):
        services.sign(document, officers["tu_phap"]["specialist"])
    services.sign(document, officers["tu_phap"]["leader"])
    with pytest.raises(PermissionDenied):
        services.issue(document, officers["tu_phap"]["leader"])
    assert Document.objects.get(pk=document.pk).number is None
    with pytest.raises(RuntimeError), transaction.atomic():
        services.issue(document, officers["tu_phap"]["clerk"])  # never inside a transaction (TSA calls)


@pytest.mark.django_db(transaction=True)
def test_an_official_letter_carries_the_drafting_units_abbreviation(officers, province, sample_pdf, keys):
    letter = signed_and_issued(officers, province, sample_pdf, type_code="cong-van", unit_abbreviation="vp")
    assert letter.symbol == "01/STP-VP"
    # A decision is numbered in the same register: one register per agency per year.
    decision = signed_and_issued(officers, province, sample_pdf)
    assert decision.symbol == "02/QĐ-STP" and decision.register == letter.register


@pytest.mark.django_db(transaction=True)
def test_recall_marks_the_internal_copy_and_tells_the_recipient(officers, province, sample_pdf, keys):
    document = signed_and_issued(officers, province, sample_pdf)
    copy = document.recipients.get().incoming_document
    with pytest.raises(PermissionDenied):
        services.recall(document, officers["tu_phap"]["specialist"], "Sai căn cứ")
    services.recall(document, officers["tu_phap"]["leader"], "Sai căn cứ pháp lý")
    assert document.status == Status.RECALLED and document.recall_reason == "Sai căn cứ pháp lý"
    copy.refresh_from_db()
    assert copy.recalled_at is not None and copy.recall_reason == "Sai căn cứ pháp lý"
    assert copy.steps.filter(action="recalled_by_sender").exists()
    assert document.recipients.get().status == Recipient.Status.RECALLED


@pytest.mark.django_db(transaction=True)
def test_a_replacement_keeps_the_link_and_marks_the_old_document_replaced(officers, province, sample_pdf, keys):
    old = signed_and_issued(officers, province, sample_pdf)
    new = services.create_replacement(
        old, officers["tu_phap"]["specialist"], file=stored(sample_pdf + b" "), excerpt="Quyết định thay thế"
    )
    assert new.replaces == old and new.status == Status.DRAFT
    assert [r.agency for r in new.recipients.all()] == [province["ubnd"]]
    services.submit(new, officers["tu_phap"]["specialist"])
    services.approve(new, officers["tu_phap"]["leader"])
    services.sign(new, officers["tu_phap"]["leader"])
    services.issue(new, officers["tu_phap"]["clerk"])
    old.refresh_from_db()
    assert old.status == Status.REPLACED and list(old.replaced_by.all()) == [new]
    assert new.symbol == "02/QĐ-STP"
    old_copy = old.recipients.get().incoming_document
    assert old_copy.steps.filter(action="replaced_by_sender").exists()
    assert new.recipients.get().incoming_document.arrival_number == 2


def test_document_types_of_decree_30_are_loaded(db):
    assert DocumentType.objects.get(code="quyet-dinh").abbreviation == "QĐ"
    assert DocumentType.objects.get(code="cong-van").is_official_letter
    assert DocumentType.objects.get(code="to-trinh").abbreviation == "TTr"
    assert DocumentType.objects.count() >= 28
    assert ApprovalFlow.objects.filter(agency__isnull=True, active=True).exists()


@pytest.mark.django_db(transaction=True)
def test_numbers_restart_on_the_first_of_january_local_time(officers, province, sample_pdf, keys):
    first = approved(officers, province, sample_pdf)
    services.sign(first, officers["tu_phap"]["leader"])
    services.issue(first, officers["tu_phap"]["clerk"], at=vn(2026, 12, 31, 16))
    second = approved(officers, province, sample_pdf)
    services.sign(second, officers["tu_phap"]["leader"])
    # 00:30 on 1 January in Việt Nam is still 31 December in UTC: the new year's register numbers it.
    services.issue(second, officers["tu_phap"]["clerk"], at=vn(2027, 1, 1, 0, 30))
    assert (first.symbol, first.register.year) == ("01/QĐ-STP", 2026)
    assert (second.symbol, second.register.year, second.issued_on.isoformat()) == ("01/QĐ-STP", 2027, "2027-01-01")
    assert second.recipients.get().incoming_document.register.year == 2027

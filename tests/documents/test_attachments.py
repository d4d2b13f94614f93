"""Attachments (tệp đính kèm) end to end: added to a draft from its pages and to an incoming
document by the clerk, shown and downloadable for those who see the document (the 404 page for
anyone else), refused with a message naming the file when it is not a PDF, delivered with the
document to an internal recipient's incoming copy, and sent over the national exchange in the
message and listed in the edXML envelope."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from chinhquyenso.documents import edxml
from chinhquyenso.documents.models import Direction, Document, Recipient
from chinhquyenso.documents.services import attachments, distribution
from chinhquyenso.exchange.models import Message
from tests.documents.incoming_support import issued_outgoing, pdf_with_text
from tests.documents.test_views import BASE, draft_form, signed_in, text_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.mark.django_db
def test_attachments_added_on_the_draft_pages_are_shown_and_downloadable_only_inside(officers, province, sample_pdf):
    appendix, table = pdf_with_text("Phụ lục danh mục thủ tục"), pdf_with_text("Bảng tổng hợp số liệu")
    client = signed_in(officers["tu_phap"]["specialist"])
    response = client.post(
        BASE + "soan-thao/",
        draft_form(province, sample_pdf, attachments=[upload("phu-luc-1.pdf", appendix), upload("bang.pdf", table)]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    document = Document.objects.get()
    assert [(a.name, a.file.sha256) for a in document.attachments.order_by("pk")] == [
        ("phu-luc-1.pdf", hashlib.sha256(appendix).hexdigest()),
        ("bang.pdf", hashlib.sha256(table).hexdigest()),
    ]
    first = document.attachments.order_by("pk").first()
    page = text_of(client.get(response["Location"]))
    assert "Tệp đính kèm phu-luc-1.pdf Tải về bang.pdf Tải về" in page, page

    # Downloaded as they were uploaded, by the agency's officers; another agency gets the 404 page.
    answer = signed_in(officers["tu_phap"]["leader"]).get(BASE + f"{document.pk}/dinh-kem/{first.pk}/?tai=1")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert b"".join(answer.streaming_content if answer.streaming else [answer.content]) == appendix
    assert "attachment" in answer["Content-Disposition"]
    outsider = signed_in(officers["xa_b"]["leader"])
    assert outsider.get(BASE + f"{document.pk}/dinh-kem/{first.pk}/").status_code == 404
    assert outsider.post(BASE + f"{document.pk}/attach/", {"attachments": upload("x.pdf", appendix)}).status_code == 404

    # One more from the draft's page; a file that is not a PDF is refused, named, and nothing is added.
    more = client.post(
        BASE + f"{document.pk}/attach/", {"attachments": [upload("to-trinh.pdf", pdf_with_text("Tờ trình"))]}
    )
    assert more.status_code == 302 and document.attachments.count() == 3
    refused = client.post(
        BASE + f"{document.pk}/attach/",
        {"attachments": [upload("them.pdf", pdf_with_text("Thêm")), upload("anh-chup.pdf", b"GIF89a not a pdf")]},
        follow=True,
    )
    assert "Thêm tệp đính kèm: Tệp đính kèm “anh-chup.pdf”:" in text_of(refused)
    assert document.attachments.count() == 3  # all or none: "them.pdf" was not kept either


@pytest.mark.django_db
def test_a_draft_with_an_attachment_that_is_not_a_pdf_is_not_saved(officers, province, sample_pdf):
    client = signed_in(officers["tu_phap"]["specialist"])
    response = client.post(
        BASE + "soan-thao/",
        draft_form(province, sample_pdf, attachments=[upload("phu-luc.pdf", sample_pdf), upload("so-do.png", PNG)]),
    )
    html = response.content.decode()
    assert response.status_code == 400 and not Document.objects.exists()
    assert 'id="attachments-err"' in html and "Tệp đính kèm “so-do.png” phải là tệp PDF." in html


@pytest.mark.django_db
def test_attachments_cannot_change_once_the_leader_approved(officers, province, sample_pdf):
    from chinhquyenso.core.errors import DomainError
    from chinhquyenso.documents import services

    client = signed_in(officers["tu_phap"]["specialist"])
    client.post(BASE + "soan-thao/", draft_form(province, sample_pdf))
    document = Document.objects.get()
    services.submit(document, officers["tu_phap"]["specialist"])
    services.approve(document, officers["tu_phap"]["leader"])
    with pytest.raises(DomainError):
        services.add_attachments(document, officers["tu_phap"]["specialist"], files=[upload("muon.pdf", sample_pdf)])
    assert "Thêm tệp đính kèm" not in client.get(BASE + f"{document.pk}/").content.decode()


@pytest.mark.django_db
def test_the_clerk_registers_an_incoming_document_with_its_attachments(officers, province, sample_pdf):
    clerk = signed_in(officers["xa_a"]["clerk"])
    appendix = pdf_with_text("Phụ lục kèm công văn")
    form = {
        "agency": str(province["xa_a"].pk),
        "document_type": "cong-van",
        "sender_name": "Bộ Tư pháp",
        "symbol": "123/BTP-HTQTCT",
        "number": "123",
        "excerpt": "Về việc hướng dẫn đăng ký khai sinh",
        "urgency": "normal",
        "confidentiality": "normal",
        "idempotency_key": "k-attachments",
        "file": upload("cv.pdf", sample_pdf),
        "attachments": [upload("phu-luc.pdf", appendix)],
    }
    response = clerk.post(BASE + "vao-so/", form)
    document = Document.objects.get()
    assert response.status_code == 302 and document.direction == Direction.INCOMING
    [attachment] = document.attachments.all()
    assert attachment.name == "phu-luc.pdf" and attachment.file.size == len(appendix)
    assert "phu-luc.pdf" in text_of(clerk.get(response["Location"]))

    bad = clerk.post(
        BASE + "vao-so/",
        {
            **form,
            "idempotency_key": "k-bad",
            "file": upload("cv.pdf", sample_pdf),
            "attachments": [upload("a.pdf", PNG)],
        },
    )
    assert bad.status_code == 400 and "Tệp đính kèm “a.pdf” phải là tệp PDF." in bad.content.decode()
    assert Document.objects.count() == 1


@pytest.mark.django_db
def test_attachments_travel_with_the_document_inside_the_province_and_over_the_exchange(officers, province):
    sender = province["tu_phap"]
    document = issued_outgoing(sender, excerpt="Quyết định có phụ lục", at=timezone.now(), symbol="07/QĐ-STP")
    appendix = pdf_with_text("Phụ lục I")
    with transaction.atomic():
        _, stored = attachments.store(upload("phu-luc.pdf", appendix), None)
        attachments.attach(document, [("Phụ lục I/2026.pdf", stored)])  # a name the exchange would not take as is
    Recipient.objects.create(
        document=document, channel=Recipient.Channel.INTERNAL, agency=province["huyen"], name=province["huyen"].name
    )
    Recipient.objects.create(
        document=document, channel=Recipient.Channel.BUS, electronic_code="000.00.00.G06", name="Bộ Công an"
    )
    with transaction.atomic():
        distribution.distribute(Document.objects.get(pk=document.pk), actor=None, at=timezone.now())

    # The district's incoming copy has it, and its officers download it.
    copy = Document.objects.get(direction=Direction.INCOMING, source_document=document)
    [delivered] = copy.attachments.select_related("file")
    assert delivered.name == "Phụ lục I/2026.pdf" and delivered.file.sha256 == document.attachments.get().file.sha256
    answer = signed_in(officers["huyen"]["leader"]).get(BASE + f"{copy.pk}/dinh-kem/{delivered.pk}/")
    assert answer.status_code == 200
    assert signed_in(officers["xa_b"]["leader"]).get(BASE + f"{copy.pk}/dinh-kem/{delivered.pk}/").status_code == 404

    # The exchange's message carries its bytes; the envelope lists it beside the main file.
    body = json.loads(Message.objects.get(kind=distribution.KIND_SEND).body)["json"]
    [sent] = body["attachments"]
    assert sent["name"] == "Phụ lục I-2026.pdf" and base64.b64decode(sent["content_base64"]) == appendix
    envelope = edxml.parse_envelope(base64.b64decode(body["envelope"]))
    assert [(a.name, a.sha256) for a in envelope.attachments] == [
        ("07-QĐ-STP.pdf", document.current_file.sha256),
        ("Phụ lục I-2026.pdf", sent["sha256"]),
    ]


def test_the_service_limits_how_many_files_a_document_carries():
    from chinhquyenso.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        attachments.store_all([object()] * 2, None, already=attachments.MAX_ATTACHMENTS - 1)
    assert refused.value.field == "attachments" and str(attachments.MAX_ATTACHMENTS) in refused.value.message

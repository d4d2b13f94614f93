"""The exchange package (edXML, QCVN 102:2016 structure): envelopes and status messages survive a
round trip whatever their Vietnamese text, control characters are refused at build time, and
hostile or foreign packages are refused with a message naming the element."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinhquyenso.core.errors import DomainError
from chinhquyenso.documents import edxml

VN = dt.timezone(dt.timedelta(hours=7))
# Texts as officers write them: any printable character (Vietnamese letters with every tone mark,
# in NFC or NFD), spaces, tabs and line breaks — no other control character.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ \t\n"),
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff"),
    ),
    max_size=200,
)
REQUIRED_TEXT = TEXT.filter(bool)
CODE = st.from_regex(r"\A[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}\Z")


def organ(code="000.00.15.H01", name="Sở Tư pháp tỉnh An Giang"):
    return edxml.Organ(organ_id=code, organ_name=name)


def envelope(**changes) -> edxml.Envelope:
    fields = {
        "document_id": "000.00.15.H01:42",
        "sender": organ(),
        "recipients": (organ("000.00.00.G06", "Bộ Công an"), organ("000.00.00.H29", "UBND tỉnh Đồng Tháp")),
        "code_number": "12",
        "code_notation": "QĐ-STP",
        "place": "An Giang",
        "promulgation_date": dt.date(2026, 12, 6),
        "type_code": "quyet-dinh",
        "type_name": "Quyết định",
        "subject": "Về việc công bố thủ tục hành chính mới ban hành",
        "signer_competence": "KT. GIÁM ĐỐC",
        "signer_position": "Phó Giám đốc",
        "signer_full_name": "Trần Văn Bình",
        "due_date": dt.date(2026, 12, 20),
        "to_places": ("Như trên", "Lưu: VT, VP."),
        "priority": "very_urgent",
        "page_amount": 2,
        "steering_type": 1,
        "response_for": edxml.ResponseFor("000.00.00.H29", "125/UBND-VP", dt.date(2026, 12, 1), "VBQG-1"),
        "traces": (edxml.Trace("000.00.15.H01", dt.datetime(2026, 12, 6, 9, 30, tzinfo=VN)),),
        "attachments": (edxml.AttachmentRef("12-QĐ-STP.pdf", "application/pdf", "ab" * 32, "Văn bản chính"),),
    }
    fields.update(changes)
    return edxml.Envelope(**fields)


def test_an_envelope_comes_back_as_it_was_sent():
    sent = envelope()
    data = edxml.serialize(sent)
    assert data.startswith(b"<?xml") and b"edXMLEnvelope" in data and edxml.NS.encode() in data
    assert "Về việc công bố".encode() in data  # UTF-8, not character references
    assert edxml.parse_envelope(data) == sent
    assert sent.symbol == "12/QĐ-STP"


@settings(max_examples=150, deadline=None)
@given(
    subject=REQUIRED_TEXT,
    signer=TEXT,
    place=TEXT,
    sender_name=REQUIRED_TEXT,
    code=CODE,
    places=st.lists(TEXT, max_size=3),
)
def test_any_vietnamese_text_survives_the_round_trip(subject, signer, place, sender_name, code, places):
    sent = envelope(
        subject=subject,
        signer_full_name=signer,
        place=place,
        sender=organ(code, sender_name),
        to_places=tuple(places),
    )
    assert edxml.parse_envelope(edxml.serialize(sent)) == sent


@settings(max_examples=100, deadline=None)
@given(description=TEXT, staff=TEXT, status=st.sampled_from(sorted(edxml.STATUS_CODES)))
def test_status_messages_survive_the_round_trip(description, staff, status):
    sent = edxml.StatusMessage(
        document_id="VBQG-ABC",
        sender=organ(),
        response_for=edxml.ResponseFor("000.00.00.H29", "125/UBND-VP", dt.date(2026, 12, 1), "VBQG-ABC"),
        status=status,
        timestamp=dt.datetime(2026, 12, 6, 10, 0, tzinfo=VN),
        description=description,
        department="Văn phòng",
        staff=staff,
    )
    data = edxml.build_status(sent)
    assert f"<edXML:StatusCode>{edxml.STATUS_CODES[status]}</edXML:StatusCode>".encode() in data
    assert edxml.parse_status(data) == sent


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\r", "\x7f", "\ufffe"])
def test_control_characters_are_refused_naming_the_field(character):
    with pytest.raises(DomainError) as refused:
        edxml.serialize(envelope(subject=f"Trích yếu{character}"))
    assert refused.value.field == "Subject" and "ký tự điều khiển" in refused.value.message
    with pytest.raises(DomainError) as refused:
        edxml.serialize(envelope(sender=organ(name=f"Sở{character}")))
    assert refused.value.field == "From.OrganName"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"not xml", "envelope"),
        (b"<?xml version='1.0'?><other/>", "envelope"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><edXML:edXMLEnvelope '
            b'xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">&a;</edXML:edXMLEnvelope>',
            "envelope",
        ),
        (b'<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>', "edXMLHeader"),
        (b"x" * (edxml.MAX_BYTES + 1), "envelope"),
    ],
)
def test_foreign_or_hostile_packages_are_refused(data, field):
    with pytest.raises(edxml.EnvelopeError) as refused:
        edxml.parse_envelope(data)
    assert refused.value.field == field


def test_a_package_missing_required_elements_names_them():
    data = (
        edxml.serialize(envelope())
        .replace(b"<edXML:Subject>", b"<edXML:Subjekt>")
        .replace(b"</edXML:Subject>", b"</edXML:Subjekt>")
    )
    with pytest.raises(edxml.EnvelopeError) as refused:
        edxml.parse_envelope(data)
    assert refused.value.field == "Subject"
    with pytest.raises(DomainError) as refused:
        edxml.serialize(envelope(recipients=()))
    assert refused.value.field == "To"
    with pytest.raises(DomainError) as refused:
        edxml.serialize(envelope(subject=""))
    assert refused.value.field == "Subject"
    bad_date = edxml.serialize(envelope()).replace(
        b"2026-12-06</edXML:PromulgationDate>", b"06/12/2026</edXML:PromulgationDate>"
    )
    with pytest.raises(edxml.EnvelopeError) as refused:
        edxml.parse_envelope(bad_date)
    assert refused.value.field == "PromulgationInfo/PromulgationDate"


def test_status_codes_follow_the_national_exchange():
    assert edxml.STATUS_CODES["received"] == "03" and edxml.STATUS_CODES["done"] == "06"
    assert edxml.STATUS_OF_CODE["02"] == "returned"
    with pytest.raises(DomainError):
        edxml.build_status(
            edxml.StatusMessage("x", organ(), edxml.ResponseFor("a", "b"), "lost", dt.datetime.now(tz=VN))
        )


def test_attachments_with_their_content_come_back_as_they_were_sent():
    """As the national edXML carries them: each Attachment with its name, media type, description
    and, when it travels inside the package, its bytes in ContentTransferEncoded."""
    appendix = b"%PDF-1.7\n" + bytes(range(256)) * 4  # every byte value survives base64 in XML
    files = (
        edxml.AttachmentRef("12-QĐ-STP.pdf", "application/pdf", "ab" * 32, "Văn bản chính"),
        edxml.AttachmentRef(
            "Phụ lục I — danh mục.pdf",
            "application/pdf",
            hashlib.sha256(appendix).hexdigest(),
            "Tệp đính kèm",
            content=appendix,
        ),
    )
    package = edxml.serialize(envelope(attachments=files))
    assert b"ContentTransferEncoded" in package and appendix not in package  # base64, never raw bytes
    assert edxml.parse_envelope(package).attachments == files


def test_attachment_content_that_does_not_match_its_hash_is_refused():
    good = edxml.serialize(
        envelope(attachments=(edxml.AttachmentRef("a.pdf", "application/pdf", "0" * 64, content=b"%PDF-1.7 a"),))
    )
    with pytest.raises(edxml.EnvelopeError) as refused:
        edxml.parse_envelope(good)
    assert refused.value.field == "Attachment.Sha256" and "a.pdf" in refused.value.message
    broken = good.replace(base64.b64encode(b"%PDF-1.7 a"), b"not*base64")
    with pytest.raises(edxml.EnvelopeError) as refused:
        edxml.parse_envelope(broken)
    assert refused.value.field == "Attachment.ContentTransferEncoded"

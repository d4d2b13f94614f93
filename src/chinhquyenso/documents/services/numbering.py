"""Registers (sổ văn bản) and numbers, per Nghị định 30/2020/NĐ-CP: an agency numbers its
outgoing documents in one register per year (or several, each for some document types), starting
at 01 on 1 January; incoming documents get an arrival number (số đến) from its incoming register.

Numbers come from core.codes' counter of the register (`Register.counter_key`): the counter row
is locked until the issuing transaction ends, so concurrent issuers never share a number and a
rolled-back issue gives its number back — no gaps, no duplicates."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from chinhquyenso.core.codes import next_number
from chinhquyenso.core.text import fold
from chinhquyenso.documents.models import Direction, DocumentType, Register
from chinhquyenso.org.models import AgencyKind

COMMITTEE_KINDS = (AgencyKind.PROVINCE_COMMITTEE, AgencyKind.DISTRICT_COMMITTEE, AgencyKind.COMMUNE_COMMITTEE)
# Words left out of an agency's initials: "Sở Tư pháp tỉnh An Giang" → "STP".
PLACE_WORDS = ("tinh", "huyen", "thi xa", "thanh pho", "quan", "xa", "phuong", "thi tran")


def default_abbreviation(agency) -> str:
    """The abbreviation a new register starts with (editable in the administration): UBND for
    people's committees, else the initials of the agency's name before its place name."""
    if agency.kind in COMMITTEE_KINDS:
        return "UBND"
    initials = []
    for word in agency.name.split():
        folded = fold(word)
        if folded in PLACE_WORDS and initials:
            break
        initials.append("Đ" if word[:1] in "Đđ" else word[:1].upper())
    return "".join(initials)[:10] or "CQ"


def local_today(at: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(at or timezone.now())


def register_for(
    agency, direction: str, document_type: DocumentType | None = None, year: int | None = None
) -> Register:
    """The register that numbers `document_type` in `agency` for `year` (this year by default): the
    one listing the type, else the agency's general register of that year (created, named "Sổ văn
    bản đi/đến <year>", with last year's abbreviation, when the agency has none yet)."""
    year = year or local_today().year
    registers = Register.objects.filter(agency=agency, year=year, direction=direction, active=True)
    if document_type is not None:
        specific = registers.filter(document_types=document_type).order_by("pk").first()
        if specific is not None:
            return specific
    general = registers.filter(document_types__isnull=True).order_by("pk").first()
    if general is not None:
        return general
    return _create_general(agency, direction, year)


def _create_general(agency, direction: str, year: int) -> Register:
    previous = Register.objects.filter(agency=agency).order_by("-year", "pk").first()
    abbreviation = previous.agency_abbreviation if previous else default_abbreviation(agency)
    name = f"Sổ văn bản {'đi' if direction == Direction.OUTGOING else 'đến'} năm {year}"
    try:
        # Two first issues of the year racing: the savepoint lets the loser read the winner's register.
        with transaction.atomic():
            return Register.objects.create(
                agency=agency, year=year, direction=direction, name=name, agency_abbreviation=abbreviation
            )
    except IntegrityError:
        return Register.objects.get(agency=agency, year=year, direction=direction, name=name)


def take_number(register: Register) -> int:
    """The register's next number; inside the transaction that uses it (core.codes refuses otherwise)."""
    return next_number(register.counter_key)


def format_number(number: int) -> str:
    """Numbers below 10 are written with a leading zero (Nghị định 30/2020, Phụ lục I: "số 01")."""
    return f"{number:02d}"


def format_symbol(number: int, document_type: DocumentType, abbreviation: str, unit_abbreviation: str = "") -> str:
    """Số, ký hiệu: "05/QĐ-UBND" for a typed document; a công văn has no type name and carries
    the drafting unit's abbreviation instead: "12/UBND-VP" (or "12/UBND" without one)."""
    if document_type.abbreviation:
        return f"{format_number(number)}/{document_type.abbreviation}-{abbreviation}"
    tail = f"-{unit_abbreviation}" if unit_abbreviation else ""
    return f"{format_number(number)}/{abbreviation}{tail}"

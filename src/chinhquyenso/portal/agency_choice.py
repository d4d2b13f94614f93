"""Choosing the receiving agency on the wizard's applicant step.

Only agencies that handle the procedure today and are current units (after the 2025
reorganization: no district, no merged-away commune) are offered, in two groups — the
province's departments and centre, then the communes and wards — each sorted by name
without regard to diacritics; the applicant's commune is preselected from the address."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from chinhquyenso.core.text import fold
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import agency_for_address
from chinhquyenso.procedures import selectors as procedures

GROUP_PROVINCE = "Cơ quan cấp tỉnh"
GROUP_COMMUNE = "UBND xã, phường, đặc khu"
QUERY_MAX_LENGTH = 60


@dataclass
class Choice:
    agencies: list[Agency]  # every agency that may receive the dossier, sorted
    groups: list[tuple[str, list[Agency]]]  # what the list shows (filtered by `query`), grouped
    query: str = ""
    selected: str = ""  # code of the agency selected
    from_address: Agency | None = None  # the agency the address gave, when it is the one selected
    codes: set[str] = field(default_factory=set)
    no_match: bool = False  # the filter matched nothing: the whole list is shown

    @property
    def needed(self) -> bool:
        """A choice is asked for only when more than one agency receives the procedure."""
        return len(self.agencies) > 1

    @property
    def shown(self) -> int:
        return sum(len(rows) for _, rows in self.groups)


def receiving_agencies(procedure, day: dt.date) -> list[Agency]:
    """Agencies handling `procedure` on `day` that are current units, sorted: the province's
    agencies first, then the communes, each by name without diacritics."""
    rows = procedures.handling_agencies(procedure, day).filter(valid_to__isnull=True)
    return sorted(rows, key=lambda a: (a.kind == AgencyKind.COMMUNE_COMMITTEE, a.name_folded, a.pk))


def _grouped(agencies: list[Agency]) -> list[tuple[str, list[Agency]]]:
    province = [a for a in agencies if a.kind != AgencyKind.COMMUNE_COMMITTEE]
    communes = [a for a in agencies if a.kind == AgencyKind.COMMUNE_COMMITTEE]
    return [(label, rows) for label, rows in ((GROUP_PROVINCE, province), (GROUP_COMMUNE, communes)) if rows]


def build(procedure, day: dt.date, *, chosen: str = "", address: str = "", query: str = "") -> Choice:
    """The list to show: filtered by `query` (every word, diacritic-insensitive, in the name),
    with `chosen` selected when it is offered, else the agency of the address."""
    agencies = receiving_agencies(procedure, day)
    codes = {a.code for a in agencies}
    query = " ".join(query.split())[:QUERY_MAX_LENGTH]
    words = fold(query).split()
    shown = [a for a in agencies if all(w in a.name_folded for w in words)] if words else agencies
    no_match = not shown
    shown = shown or agencies
    choice = Choice(agencies=agencies, groups=_grouped(shown), query=query, codes=codes, no_match=no_match)
    if chosen in codes:
        choice.selected = chosen
    elif len(agencies) > 1 and address:
        found = agency_for_address(address, day)
        if found is not None and found.code in codes:
            choice.selected, choice.from_address = found.code, found
    if len(shown) == 1 and words and not no_match:
        choice.selected = shown[0].code  # the filter left one: take it
    # The selected agency stays in the list even when the filter hides it.
    if choice.selected and choice.selected not in {a.code for a in shown}:
        picked = next(a for a in agencies if a.code == choice.selected)
        choice.groups = _grouped(sorted([picked, *shown], key=agencies.index))
    return choice


def chosen_agency(draft, agencies: list[Agency]) -> Agency | None:
    """The agency the draft will be sent to, for the review step: the one chosen among
    `agencies` (receiving_agencies), or the only one."""
    if len(agencies) == 1:
        return agencies[0]
    return next((a for a in agencies if a.code == draft.agency_code), None)

import datetime as dt
import re

from django.utils import timezone

from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.text import fold, nfc
from chinhquyenso.org.models import Agency, AgencyKind, Succession


def current_successor(agency: Agency) -> Agency | None:
    """Follow the open-work successions from `agency` to the version valid today.
    Re-read first: a caller's instance may predate the reorganization that closed it."""
    agency = Agency.objects.filter(pk=agency.pk).first() if agency is not None else None
    seen = set()
    while agency is not None and not agency.is_current and agency.pk not in seen:
        seen.add(agency.pk)
        link = (
            Succession.objects.filter(source=agency, takes_open_work=True)
            .exclude(reorganization__kind="transfer_procedure")
            .select_related("successor")
            .last()
        )
        agency = link.successor if link else None
    return agency


def with_predecessors(ids: set[int]) -> set[int]:
    """`ids` plus every agency they succeeded, however many reorganizations back."""
    ids = set(ids)
    frontier = set(ids)
    while frontier:
        sources = set(Succession.objects.filter(successor_id__in=frontier).values_list("source_id", flat=True)) - ids
        ids |= sources
        frontier = sources
    return ids


def agencies_valid_on(day: dt.date):
    return Agency.objects.valid_on(day).select_related("parent")


def search_agencies(query: str, day: dt.date | None = None):
    qs = Agency.objects.valid_on(day) if day else Agency.objects.current()
    return qs.filter(name_folded__contains=fold(query)) if query else qs


# ---------------------------------------------------------------- one agency across its versions

TRANSFER = "transfer_procedure"  # Reorganization.Kind.TRANSFER_PROCEDURE: bookkeeping, not a new version


def _next_version(agency: Agency) -> Agency | None:
    """The version that continues `agency` (a rename, a move, or a re-creation under a
    successor parent): the one successor of the one succession, opened the day `agency`
    closed, with no other source. A merge, split or dissolution ends the agency instead."""
    links = list(
        Succession.objects.filter(source=agency, successor__isnull=False)
        .exclude(reorganization__kind=TRANSFER)
        .select_related("successor")
    )
    if len(links) != 1 or links[0].successor.valid_from != agency.valid_to:
        return None
    successor = links[0].successor
    sources = Succession.objects.filter(successor=successor).exclude(reorganization__kind=TRANSFER)
    return successor if sources.count() == 1 else None


def _previous_version(agency: Agency) -> Agency | None:
    links = list(
        Succession.objects.filter(successor=agency).exclude(reorganization__kind=TRANSFER).select_related("source")
    )
    if len(links) == 1 and _next_version(links[0].source) == agency:
        return links[0].source
    return None


def versions(agency: Agency) -> list[Agency]:
    """Every version of the agency `agency` is a version of, oldest first — its stable
    identity: records keyed on it do not depend on which version was picked. Re-read
    first: a caller's instance may predate the reorganization that closed it."""
    first = Agency.objects.get(pk=agency.pk)
    while (previous := _previous_version(first)) is not None:
        first = previous
    chain = [first]
    while (following := _next_version(chain[-1])) is not None:
        chain.append(following)
    return chain


def _as_of(chain: list[Agency], day: dt.date) -> Agency | None:
    """The version valid on `day`; if the agency had ended by then (merged, split,
    dissolved), its last version — never a version valid for zero days."""
    for version in chain:
        if version.is_valid_on(day):
            return version
    ended = [v for v in chain if v.valid_to is not None and v.valid_to <= day and v.valid_from < v.valid_to]
    return ended[-1] if ended else None


def resolve_agency(
    identifier: str, at: dt.date | None = None, *, field: str = "agency", noun: str = "cơ quan"
) -> Agency:
    """The agency named by its internal key, electronic code or exact name, as it stood on
    `at` (today by default): the version valid that day, following renames and moves, or —
    for an agency merged, split or dissolved before `at` — its last version. The only place
    identifiers become agencies, so key, code and name give the same version.

    A key names one agency for ever; an electronic code or a name may pass to a successor
    (a merged commune keeps one source's code), so among the agencies that ever carried it,
    the one carrying it on `at` wins, else the one that carried it last."""
    text = nfc(identifier or "").strip()
    if not text:
        raise DomainError(f"Chưa nhập mã hoặc tên {noun}.", field)
    day = at or timezone.localdate()
    matches = list(Agency.objects.filter(code=text))
    if not matches:
        matches = list(Agency.objects.filter(electronic_code=text)) or list(
            Agency.objects.filter(name_folded=fold(text))
        )
    found: dict[int, Agency] = {}
    for match in matches:
        version = _as_of(versions(match), day)
        if version is not None:
            found[version.pk] = version
    current = [v for v in found.values() if v.is_valid_on(day)]
    if len(current) > 1:
        names = ", ".join(sorted(f"{v.name} ({v.code})" for v in current))
        raise DomainError(f"“{text}” trùng với nhiều {noun}: {names}; hãy nhập mã nội bộ.", field)
    if current:
        return current[0]
    if found:
        return max(found.values(), key=lambda v: (v.valid_to, v.pk))
    if matches:
        raise NotFound(f"“{text}” chưa thành lập vào ngày {day:%d/%m/%Y}.", field)
    raise NotFound(f"Không tìm thấy {noun} có mã hoặc tên “{text}”.", field)


def version_chains(agencies) -> list[list[Agency]]:
    """versions() of many agencies at once: each chain once, oldest version first, in the order
    the agencies come. One read of the successions instead of several queries per version
    (a page listing every commune of the province); the rule is _next_version's."""
    onward: dict[int, list[Agency]] = {}
    back: dict[int, list[Agency]] = {}
    for link in Succession.objects.exclude(reorganization__kind=TRANSFER).select_related("source", "successor"):
        back.setdefault(link.successor_id, []).append(link.source)
        if link.successor_id is not None:
            onward.setdefault(link.source_id, []).append(link.successor)

    def following(agency: Agency) -> Agency | None:
        successors = onward.get(agency.pk, [])
        if len(successors) != 1 or successors[0].valid_from != agency.valid_to:
            return None
        return successors[0] if len(back.get(successors[0].pk, [])) == 1 else None

    def previous(agency: Agency) -> Agency | None:
        sources = back.get(agency.pk, [])
        if len(sources) == 1 and getattr(following(sources[0]), "pk", None) == agency.pk:
            return sources[0]
        return None

    chains, seen = [], set()
    for agency in agencies:
        if agency.pk in seen:
            continue
        first = agency
        while (earlier := previous(first)) is not None and earlier.pk not in seen:
            first = earlier
        chain = [first]
        while (later := following(chain[-1])) is not None and later.pk not in {v.pk for v in chain}:
            chain.append(later)
        seen.update(v.pk for v in chain)
        chains.append(chain)
    return chains


# ---------------------------------------------------------------- an address → its commune

# How addresses abbreviate the unit types, folded: "P. Mỹ Bình", "X.Vĩnh Tế", "TT Chợ Mới".
_TYPE_ABBREVIATIONS = [
    (re.compile(r"\b(?:tt|t\.t)\s*\.?\s*(?=\w)"), "thi tran "),
    (re.compile(r"\bp\s*\.\s*(?=\w)"), "phuong "),
    (re.compile(r"\bx\s*\.\s*(?=\w)"), "xa "),
]
_UNIT_TYPES = ("thi tran", "phuong", "xa", "dac khu")


def _address_words(text: str) -> str:
    """The address folded, abbreviations spelled out, punctuation as spaces, padded with spaces."""
    folded = fold(text)
    for pattern, replacement in _TYPE_ABBREVIATIONS:
        folded = pattern.sub(replacement, folded)
    return f" {' '.join(re.sub(r'[^0-9a-z]+', ' ', folded).split())} "


def _unit_names(agency: Agency) -> tuple[str, str]:
    """("xa my hoa hung", "my hoa hung") for "UBND xã Mỹ Hòa Hưng"."""
    qualified = agency.name_folded.removeprefix("ubnd ").strip()
    bare = qualified
    for unit_type in _UNIT_TYPES:
        if qualified.startswith(unit_type + " "):
            bare = qualified[len(unit_type) + 1 :]
            break
    return qualified, bare


def successor_links() -> dict[int, int | None]:
    """Every agency version's open-work successor, in one query: {source id: successor id} — the last
    such succession by effective date, then id (the rule `successor_on` follows one agency at a time),
    for callers that follow many agencies through reorganizations."""
    links = (
        Succession.objects.filter(takes_open_work=True)
        .exclude(reorganization__kind=TRANSFER)
        .order_by("reorganization__effective_date", "id")
        .values_list("source_id", "successor_id")
    )
    return dict(links)  # later rows overwrite earlier ones: the last succession wins


def successor_on(agency: Agency, day: dt.date) -> Agency | None:
    """The version valid on `day` that took over `agency`'s work (following open-work
    successions forward); `agency` itself when it is valid that day."""
    seen = set()
    while agency is not None and agency.pk not in seen and not agency.is_valid_on(day):
        seen.add(agency.pk)
        if agency.valid_from > day:
            return None
        link = (
            Succession.objects.filter(source=agency, takes_open_work=True)
            .exclude(reorganization__kind=TRANSFER)
            .select_related("successor")
            .order_by("reorganization__effective_date", "id")
            .last()
        )
        agency = link.successor if link else None
    return agency


def agency_for_address(text: str, day: dt.date | None = None) -> Agency | None:
    """The commune-level committee valid on `day` (today by default) whose commune or ward the
    address names, matched without diacritics or case ("phuong my binh" finds "phường Mỹ Bình").
    A commune merged away since names its successor: an address still written with the old
    "phường Mỹ Bình" gives the ward it is part of now. The most specific match wins (a name
    with its type, "xã Vĩnh Tế", before a bare "Vĩnh Tế"; then the longer name); None when
    nothing matches or two different units match equally (no guess)."""
    day = day or timezone.localdate()
    words = _address_words(text or "")
    if not words.strip():
        return None
    best: dict[tuple[int, int], set[int]] = {}
    candidates: dict[int, Agency] = {}
    communes = Agency.objects.filter(kind=AgencyKind.COMMUNE_COMMITTEE, valid_from__lte=day)
    for agency in communes.only("id", "name_folded", "valid_from", "valid_to"):
        qualified, bare = _unit_names(agency)
        if f" {qualified} " in words:
            score = (2, len(qualified))
        elif bare != qualified and f" {bare} " in words:
            score = (1, len(bare))
        else:
            continue
        candidates[agency.pk] = agency
        best.setdefault(score, set()).add(agency.pk)
    if not best:
        return None
    for score in sorted(best, reverse=True):
        matched = [candidates[pk] for pk in best[score]]
        # A unit valid that day before an old commune of the same name elsewhere: addresses
        # follow the new names.
        resolved = {a.pk for a in matched if a.is_valid_on(day)}
        if not resolved:
            resolved = {getattr(successor_on(a, day), "pk", None) for a in matched} - {None}
        if len(resolved) == 1:
            return Agency.objects.select_related("parent").get(pk=resolved.pop())
        if len(resolved) > 1:
            return None
    return None

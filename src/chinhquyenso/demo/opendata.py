"""Open data for the demo province (`cqs seed-demo`), made after the province is built, calibrated to
seed 001: "số lượng CQNN cấp tỉnh, cấp huyện, cấp xã cung cấp dữ liệu mở là 179/188 cơ quan" at the
end of its period (30/9/2024; the report printed 94,2%, 179/188 is 95,2%).

Three parts, all through the opendata app's services, as officers' clicks would:
- the live datasets (opendata.live), published and refreshed as the system from the platform's data;
- one dataset for each of the 179 publishing agencies of 2024 (the agency version valid on the
  period's end), drafted by a specialist, submitted and approved by a leader: six showcase datasets
  with realistic tables (one CSV in Windows-1258, as legacy office software writes it) and, for the
  rest, a small CSV of one to three rows (a commune's one-stop counters, a department's reception
  days) — never personal data. The other 9 agencies of demo/data/opendata.json publish nothing;
- a few datasets waiting in today's agencies (submitted, draft), so the demo's leaders have an
  approval queue.

The 2024 datasets are dated back: the services write them now, then their timestamps and the dates of
their versions (the history opendata.figures reads) are moved into the period, as the dossier
generator dates the dossiers. The audit trail keeps the real time of the writes.

Many 2024 agencies no longer exist (the 2025 reorganizations): their successor's officers act for
them, as accounts.access.scope_agency_ids lets a successor's officers handle its predecessors' work."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import time
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction

from chinhquyenso.accounts.models import Membership, Role, User
from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.errors import DomainError
from chinhquyenso.demo import services
from chinhquyenso.opendata import live
from chinhquyenso.opendata.figures import counted_agencies
from chinhquyenso.opendata.models import Dataset, DatasetVersion, Resource
from chinhquyenso.opendata.services import datasets, resources
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import current_successor

DATA_FILE = "opendata.json"
# Kinds whose routine dataset is the list of their one-stop counters; the others (sở, ngành) publish
# their citizens' reception days.
COUNTER_KINDS = (AgencyKind.DISTRICT_COMMITTEE, AgencyKind.COMMUNE_COMMITTEE)
# Windows-1258 writes Vietnamese with combining tone marks after a base letter it has precomposed.
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def scenario() -> dict:
    return services.load(DATA_FILE)


def period_end() -> dt.date:
    return dt.date.fromisoformat(scenario()["period"]["end"])


@dataclass
class OpendataStats:
    live: int = 0
    published: int = 0
    waiting: int = 0
    not_publishing: list[str] = field(default_factory=list)
    period_end: dt.date | None = None
    seconds: float = 0.0


# ---------------------------------------------------------------- files


def to_windows_1258(text: str) -> bytes:
    """`text` as legacy Vietnamese software writes it in Windows-1258: a letter the code page lacks
    precomposed ("ệ") is its base letter ("ê") followed by the combining tone mark."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            out.append(char.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
        out.append((base + "".join(c for c in parts if c in TONE_MARKS)).encode("cp1258"))
    return b"".join(out)


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if encoding == "cp1258":
        return to_windows_1258(text)
    return text.encode(encoding)


# ---------------------------------------------------------------- who acts


class Officers:
    """A specialist (who drafts and submits) and a leader (who approves) for an agency's datasets: its
    own officers, or those of the agency that carries its work today."""

    def __init__(self):
        self.cache: dict[int, tuple[User, User]] = {}

    def of(self, agency: Agency) -> tuple[User, User]:
        actor = current_successor(agency) or agency
        if actor.pk not in self.cache:
            self.cache[actor.pk] = (self._one(actor, Role.SPECIALIST), self._one(actor, Role.LEADER))
        return self.cache[actor.pk]

    @staticmethod
    def _one(agency: Agency, role: str) -> User:
        membership = Membership.objects.filter(agency=agency, role=role).select_related("user").order_by("id").first()
        if membership is None:
            raise DomainError(
                f"“{agency.name}” không có cán bộ với vai trò {Role(role).label} trong tỉnh mẫu.", DATA_FILE
            )
        return membership.user


# ---------------------------------------------------------------- datasets


def _fill(value, **names):
    if isinstance(value, list):
        return [_fill(item, **names) for item in value]
    return value.format(**names) if isinstance(value, str) else value


def _fields(spec: dict) -> dict:
    fields = {
        key: spec[key] for key in ("title", "description", "themes", "tags", "frequency", "spatial") if key in spec
    }
    if spec.get("temporal"):
        fields["temporal_start"], fields["temporal_end"] = spec["temporal"]
    return fields


def routine_spec(agency: Agency, rng: random.Random, hamlets: list[str]) -> dict:
    """The small dataset of an agency without a showcase one: its one-stop counters (communes,
    districts: 1 to 3 rows) or its citizens' reception days (departments)."""
    routine = scenario()["routine"]
    template = routine["counter" if agency.kind in COUNTER_KINDS else "department"]
    place = agency.name.removeprefix("UBND ").strip()
    names = {"agency": agency.name, "place": place, "hamlet": rng.choice(hamlets), "counters": str(rng.randint(2, 4))}
    rows = _fill(template["rows"], **names)
    extra = template.get("extra_rows", [])
    rows += _fill(extra[: rng.randint(0, len(extra))], **names)
    return {
        **_fill({k: template[k] for k in ("title", "description")}, **names),
        "themes": template["themes"],
        "tags": template["tags"],
        "frequency": template["frequency"],
        "resources": [
            {
                "name": template["title"].format(**names),
                "filename": template["resource"],
                "header": template["header"],
                "rows": rows,
            }
        ],
    }


def resource_rows(spec: dict, rng: random.Random) -> list[list[str]]:
    """The rows written as given, or generated per commune of 2024 ("per_commune": column → [min, max])."""
    if "per_commune" not in spec:
        return spec["rows"]
    rows = []
    for district in services.load("agencies.json")["districts"]:
        district_name = district["name"].removeprefix("UBND ")
        district_name = district_name[0].upper() + district_name[1:]
        for commune in district["communes"]:
            counts = [str(rng.randint(low, high)) for low, high in spec["per_commune"].values()]
            rows.append([district_name, f"{commune['type'].capitalize()} {commune['name']}", *counts])
    return rows


def publish(spec: dict, *, agency: Agency, officers: Officers, rng: random.Random, status: str = "public"):
    """One dataset through the services: drafted (and submitted, unless `status` is "draft"), its CSV
    files added, then approved when `status` is "public"."""
    specialist, leader = officers.of(agency)
    # Drafted and submitted in one step (as the CKAN API's package_create does): a submitted dataset
    # still takes files, and one service call fewer per dataset keeps the demo's 179 quick.
    submit = status in ("submitted", "public")
    dataset = datasets.create_dataset(actor=specialist, agency=agency, fields=_fields(spec), submit=submit)
    for item in spec.get("resources", []):
        data = csv_bytes(item["header"], resource_rows(item, rng), item.get("encoding", "utf-8"))
        resources.add_resource(dataset, actor=specialist, data=data, name=item["name"], filename=item["filename"])
    if status == "public":
        datasets.approve(dataset, actor=leader)
    return dataset


def date_back(dataset, published: dt.date, rng: random.Random) -> None:
    """Move a dataset written now into the past: drafted two or three days before `published`, approved
    that morning. Its versions keep their order; their times follow."""
    approved = dt.datetime.combine(published, dt.time(9, rng.randrange(60)), tzinfo=LOCAL_TZ)
    drafted = approved - dt.timedelta(days=rng.choice((2, 3)), hours=1)
    versions = list(DatasetVersion.objects.filter(dataset=dataset).order_by("number").values_list("pk", flat=True))
    step = (approved - drafted) / max(1, len(versions) - 1)
    for index, pk in enumerate(versions):
        DatasetVersion.objects.filter(pk=pk).update(
            at=approved if index == len(versions) - 1 else drafted + step * index
        )
    Resource.objects.filter(dataset=dataset).update(created_at=drafted, modified_at=drafted)
    Dataset.objects.filter(pk=dataset.pk).update(
        created_at=drafted, modified_at=approved, published_at=approved, data_updated_at=drafted
    )


def publishing_day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def build_period(*, seed: int) -> tuple[int, list[str]]:
    """The 2024 datasets: one public dataset for each counted agency of the period's end but the
    nine of opendata.json. Returns (datasets published, names of the agencies that publish nothing)."""
    data = scenario()
    rng = random.Random(seed)
    start, end = dt.date.fromisoformat(data["period"]["start"]), period_end()
    silent = set(data["not_publishing"]["agencies"])
    showcase = {item["agency"]: item for item in data["showcase"]}
    counted = counted_agencies(end)
    by_code = {agency.code: agency for agency in counted}
    missing = (silent | set(showcase)) - set(by_code)
    if missing:
        raise DomainError(f"Không có cơ quan {', '.join(sorted(missing))} vào ngày {end:%d/%m/%Y}.", DATA_FILE)
    figure = data["figure"]
    if (len(counted) - len(silent), len(counted)) != (figure["publishing"], figure["counted"]):
        # The calibration is the point of this data: a changed agencies.json must not shift it silently.
        raise DomainError(
            f"Tỉnh mẫu có {len(counted)} cơ quan được tính vào ngày {end:%d/%m/%Y}, {len(silent)} cơ quan không công bố: "
            f"không ra {figure['publishing']}/{figure['counted']} như seed 001.",
            DATA_FILE,
        )
    hamlets = services.load("names.json")["hamlets"]
    officers = Officers()
    published = 0
    for agency in counted:
        if agency.code in silent:
            continue
        spec = showcase.get(agency.code) or routine_spec(agency, rng, hamlets)
        # The routine ones are spread over the first eight months; the showcase ones carry their date.
        day = (
            dt.date.fromisoformat(spec["published"])
            if "published" in spec
            else publishing_day(rng, start + dt.timedelta(days=14), end - dt.timedelta(days=30))
        )
        with transaction.atomic():
            dataset = publish(spec, agency=agency, officers=officers, rng=rng)
            date_back(dataset, day, rng)
        published += 1
    return published, [by_code[code].name for code in data["not_publishing"]["agencies"]]


def build_queue(*, seed: int) -> int:
    """Datasets waiting in today's agencies: submitted ones for their leaders to approve, a draft."""
    rng = random.Random(seed)
    officers = Officers()
    made = 0
    for spec in scenario()["queue"]["datasets"]:
        agency = services._agency(spec["agency"], f"{DATA_FILE}: queue {spec['agency']}")
        with transaction.atomic():
            publish(spec, agency=agency, officers=officers, rng=rng, status=spec["status"])
        made += 1
    return made


def build_opendata(*, seed: int, log=None) -> OpendataStats:
    """The demo's open data (see the module's docstring). Runs after the province is built; each
    dataset is its own transaction, so a failure leaves the ones before it. The live datasets come
    last: one of them is the publishing figures table, which then counts the agencies' datasets."""
    log = log or (lambda message: None)
    started = time.monotonic()
    stats = OpendataStats(period_end=period_end())
    stats.published, stats.not_publishing = build_period(seed=seed)
    stats.waiting = build_queue(seed=seed)
    refreshed = live.refresh_live_datasets()
    stats.live = len(refreshed["refreshed"])
    for line in refreshed["skipped"]:
        log(f"Bộ dữ liệu sinh tự động bị bỏ qua: {line}")
    stats.seconds = time.monotonic() - started
    return stats

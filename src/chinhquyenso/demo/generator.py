"""Synthetic dossiers for the demo province, calibrated to the seeds.

Dossiers are generated day by day from 2022-01-01 to `until`, written with
bulk_create in batches (memory stays bounded whatever the count), and the
2025 reorganizations are applied through the real services when the day loop
reaches their effective date, so every dossier is received by an agency valid
on its submission date.

Each dossier's whole life (submit → accept → steps → approve → return, or
refusal / withdrawal) is laid out on the working-day calendar and then cut at
"now" (the end of `until`): old dossiers come out returned, the last weeks'
ones open in the status they would have now, so inboxes are not empty.

Calibrated shares (online, on time, electronic result, digitized) are drawn by
systematic sampling (a running accumulator per share) rather than independent
coin flips, so even a few thousand dossiers reproduce the targets in
calibration.json within a fraction of a point, deterministically for a seed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, reset_queries, transaction

from chinhquyenso.accounts.models import Role, User
from chinhquyenso.assistant import services as assistant
from chinhquyenso.core import audit, events
from chinhquyenso.core.calendar import LOCAL_TZ, WorkingCalendar, closing_time
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import CodeCounter, StoredFile
from chinhquyenso.core.text import format_number
from chinhquyenso.demo import services
from chinhquyenso.dossiers.models import (
    Channel,
    Delivery,
    Dossier,
    DossierComponent,
    DossierEvent,
    EDataItem,
    ElectronicResult,
    Payment,
    Status,
)
from chinhquyenso.dossiers.services import timeliness_of
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.procedures.models import Procedure, ProcedureAgency, ServiceLevel

START = dt.date(2022, 1, 1)
OPEN_AT, CLOSE_AT = dt.time(7, 30), dt.time(16, 30)  # when counters accept and officers act
REFUSAL_REASONS = [
    "Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan.",
    "Người nộp không bổ sung hồ sơ theo thời hạn yêu cầu.",
    "Thành phần hồ sơ không đúng quy định, người nộp không hoàn thiện.",
]
WITHDRAW_REASONS = ["Công dân xin rút hồ sơ để hoàn thiện lại.", "Công dân không còn nhu cầu giải quyết."]
# A minimal valid PDF: one content-addressed file stands in for every scanned
# page and electronic result (identical content is stored once anyway).
PLACEHOLDER_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class Quota:
    """Systematic sampling: over any run of draws, the number of hits equals
    the sum of the probabilities asked for, give or take one."""

    def __init__(self, rng: random.Random):
        self.acc = rng.random()

    def draw(self, p: float) -> bool:
        self.acc += max(0.0, min(1.0, p))
        if self.acc >= 1.0:
            self.acc -= 1.0
            return True
        return False


class Calibration:
    """Targets per date from calibration.json: constant inside a period,
    linear between periods, held before the first and after the last."""

    KEYS = ("online_share", "on_time_share", "electronic_result_share", "digitized_share")

    def __init__(self, data: dict):
        self.periods = sorted(
            (
                {**p, "start": dt.date.fromisoformat(p["start"]), "end": dt.date.fromisoformat(p["end"])}
                for p in data["periods"]
            ),
            key=lambda p: p["start"],
        )
        self.volume = {int(y): float(v) for y, v in data["volume_by_year"].items()}
        self.outcomes = data["outcomes"]

    def at(self, day: dt.date) -> dict[str, float]:
        periods = self.periods
        if day <= periods[0]["end"]:
            return {k: periods[0][k] for k in self.KEYS}
        for before, after in zip(periods, periods[1:]):
            if day <= before["end"]:
                return {k: before[k] for k in self.KEYS}
            if day < after["start"]:
                t = (day - before["end"]).days / (after["start"] - before["end"]).days
                return {k: before[k] + (after[k] - before[k]) * t for k in self.KEYS}
        return {k: periods[-1][k] for k in self.KEYS}

    def volume_of(self, day: dt.date) -> float:
        years = sorted(self.volume)
        return self.volume.get(day.year, self.volume[years[0]] if day.year < years[0] else self.volume[years[-1]])


@dataclass
class ProcedureInfo:
    pk: int
    code: str
    name: str
    level: str
    days: int
    fee_online: int
    fee_counter: int
    result_type: str
    result_name: str
    components: list  # (required id, name, mandatory)
    steps: list  # (order, role, days)
    weight: float


@dataclass
class AgencyInfo:
    pk: int
    prefix: str  # for dossier codes, as dossiers.services.next_code
    place: str  # "xã Mỹ Hòa Hưng" for addresses


@dataclass
class Stats:
    dossiers: int = 0
    events: int = 0
    components: int = 0
    results: int = 0
    payments: int = 0
    open: int = 0
    citizens: int = 0
    reorganizations: list = field(default_factory=list)


@dataclass
class Batch:
    dossiers: list = field(default_factory=list)
    events: list = field(default_factory=list)
    components: list = field(default_factory=list)
    edata: list = field(default_factory=list)
    results: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    counters: list = field(default_factory=list)


def local(day: dt.date, minutes: float) -> dt.datetime:
    """`minutes` after midnight of `day`, Vietnam time."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ) + dt.timedelta(minutes=minutes)


class DossierGenerator:
    def __init__(self, *, actor, total: int, seed: int, until: dt.date, batch_size: int = 2000, log=None):
        self.actor, self.total, self.until, self.batch_size = actor, total, until, batch_size
        self.rng = random.Random(seed)
        self.log = log or (lambda message: None)
        self.now = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
        self.calibration = Calibration(services.load("calibration.json"))
        self.address_suffix = services.load("agencies.json")["address_suffix"]
        self.calendar = WorkingCalendar.load()
        self.stats = Stats()
        self.quota = {name: Quota(self.rng) for name in ("online", "late", "eresult", "digitized")}
        self.counters: dict[str, int] = {}
        self.batch = Batch()
        self.names = services.NameMaker(self.rng)

    # ------------------------------------------------------------ setup

    def _load_procedures(self) -> None:
        weights = services.demo_weights()
        self.procedures = []
        for p in Procedure.objects.filter(is_active=True).prefetch_related("components", "steps").order_by("code"):
            self.procedures.append(
                ProcedureInfo(
                    pk=p.pk,
                    code=p.code,
                    name=p.name,
                    level=p.service_level,
                    days=max(1, p.processing_days),
                    fee_online=p.amount_due(online=True),
                    fee_counter=p.amount_due(online=False),
                    result_type=p.result_type or p.code,
                    result_name=p.result_name or p.name,
                    components=[(c.pk, c.name, c.mandatory) for c in p.components.all()],
                    steps=[(s.order, s.role, float(s.days or Decimal(1))) for s in p.steps.all()],
                    weight=weights.get(p.code, 1.0),
                )
            )
        self.cum_weights, total = [], 0.0
        for p in self.procedures:
            total += p.weight
            self.cum_weights.append(total)
        out = self.calibration.outcomes
        self.level_weight = {
            ServiceLevel.FULL_ONLINE: out["full_online_weight"],
            ServiceLevel.PARTLY_ONLINE: out["partly_online_weight"],
            ServiceLevel.INFO_ONLY: 0.0,
        }
        # Moving average of the level weight, seeded with its expectation, so the
        # online probability follows the procedure mix actually drawn lately.
        self.level_mean = sum(p.weight * self.level_weight[p.level] for p in self.procedures) / total

    def _load_phase(self, day: dt.date) -> None:
        """Agencies handling each procedure on `day`, and officers by agency."""
        valid = Agency.objects.valid_on(day)
        self.agencies = {
            a.pk: AgencyInfo(a.pk, a.electronic_code or a.code.upper(), a.name.removeprefix("UBND ").strip())
            for a in valid
        }
        self.places = sorted(self.agencies[a.pk].place for a in valid if a.kind == AgencyKind.COMMUNE_COMMITTEE)
        self.place_set = set(self.places)
        self.handlers: dict[int, list[int]] = {}
        rows = (
            ProcedureAgency.objects.filter(valid_from__lte=day, agency_id__in=list(self.agencies))
            .exclude(valid_to__lte=day)
            .order_by("procedure_id", "agency_id")
            .values_list("procedure_id", "agency_id")
        )
        for procedure_id, agency_id in rows:
            self.handlers.setdefault(procedure_id, []).append(agency_id)
        self.officers = services.officer_user_ids()

    def _make_citizens(self) -> None:
        """A pool of synthetic applicants (kind citizen, unusable password)."""
        size = max(200, min(50_000, self.total // 8))
        names = services.NameMaker(self.rng)
        unusable = make_password(None)
        pool = []
        for start in range(0, size, 5000):
            users = []
            for index in range(start, min(size, start + 5000)):
                full_name, female = names.person()
                identity = services.citizen_id(index, female, self.rng.randint(1950, 2005))
                users.append(
                    User(
                        username=identity,
                        identity_number=identity,
                        full_name=full_name,
                        kind=User.Kind.CITIZEN,
                        password=unusable,
                        phone=f"09{self.rng.randrange(10**7, 10**8)}",
                    )
                )
            User.objects.bulk_create(users)
            pool += [(u.pk, u.full_name, u.identity_number, u.phone) for u in users]
        self.pool = pool
        self.stats.citizens = size
        audit.record(
            actor=self.actor,
            action="demo.citizens",
            object_type="accounts.User",
            object_id="demo",
            after={"count": size},
        )

    def _placeholder(self) -> StoredFile:
        from chinhquyenso.core.uploads import store_upload

        return store_upload(PLACEHOLDER_PDF, original_name="ban-scan-mau.pdf", user=self.actor)

    # ------------------------------------------------------------ main loop

    def run(self) -> Stats:
        if connection.vendor == "sqlite":
            # Inserting millions of rows into a few indexes: a larger page cache
            # (this connection only, bounded at 64 MB) keeps the B-trees in memory.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -65536")
        self._load_procedures()
        self._make_citizens()
        self.file = self._placeholder()
        reorg_dates = set(services.reorganization_dates(self.until))
        days = []
        day = START
        while day <= self.until:
            days.append(day)
            day += dt.timedelta(days=1)
        volume = {d: self.calibration.volume_of(d) for d in days if self.calendar.is_working_day(d)}
        scale = self.total / sum(volume.values()) if volume else 0
        last_working_day = max(volume, default=None)
        self._load_phase(START)
        carry = 0.0
        for day in days:
            if day in reorg_dates:
                self._flush()
                self.stats.reorganizations += services.apply_reorganizations(actor=self.actor, on=day)
                self._load_phase(day)
                self.log(f"  {day:%d/%m/%Y}: đã áp dụng sắp xếp tổ chức")
            if day.day == 1 and day.month == 1 and day != START:
                self.log(
                    f"  Hết năm {day.year - 1}: {format_number(self.stats.dossiers + len(self.batch.dossiers))} hồ sơ"
                )
            if day not in volume:
                continue
            carry += volume[day] * scale
            count = int(carry + 1e-9)
            carry -= count
            if day == last_working_day:
                count += round(carry)  # the rounding remainder goes to the last working day
            self._day(day, count)
            if len(self.batch.dossiers) >= self.batch_size:
                self._flush()
        self._flush()
        return self.stats

    def _day(self, day: dt.date, count: int) -> None:
        targets = self.calibration.at(day)
        drafts = [self._draft(day, targets) for _ in range(count)]
        drafts = [d for d in drafts if d is not None]
        drafts.sort(key=lambda d: d["submitted_at"])
        keys = []
        for draft in drafts:
            key = f"{self.agencies[draft['agency']].prefix}-{day:%y%m%d}"
            if key not in self.counters:
                keys.append(key)
            self.counters[key] = self.counters.get(key, 0) + 1
            self._build(draft, f"{key}-{self.counters[key]:04d}")
        self.batch.counters += [CodeCounter(key=k, value=self.counters.pop(k)) for k in keys]

    # ------------------------------------------------------------ one dossier

    def _procedure(self) -> tuple[ProcedureInfo, int] | None:
        for _ in range(20):
            p = self.procedures[bisect.bisect_left(self.cum_weights, self.rng.random() * self.cum_weights[-1])]
            handlers = self.handlers.get(p.pk)
            if handlers:
                return p, self.rng.choice(handlers)
        return None

    def _office_moment(self, moment: dt.datetime) -> dt.datetime:
        """`moment` if officers are at work then, else the next opening time."""
        local_moment = moment.astimezone(LOCAL_TZ)
        day, t = local_moment.date(), local_moment.time()
        if self.calendar.is_working_day(day) and OPEN_AT <= t < CLOSE_AT:
            return local_moment
        if self.calendar.is_working_day(day) and t < OPEN_AT:
            return local(day, 450 + self.rng.uniform(0, 60))
        return local(self.calendar.next_working_day(day), 450 + self.rng.uniform(0, 90))

    def _working_moment(self, day: dt.date) -> dt.datetime:
        return local(day, 480 + self.rng.uniform(0, 480))  # 08:00–16:00

    def _draft(self, day: dt.date, targets: dict) -> dict | None:
        rng, out = self.rng, self.calibration.outcomes
        chosen = self._procedure()
        if chosen is None:
            return None
        p, agency = chosen
        weight = self.level_weight[p.level]
        self.level_mean += (weight - self.level_mean) / 40
        online = weight > 0 and self.quota["online"].draw(targets["online_share"] / 100 * weight / self.level_mean)
        if online:
            evening = rng.random() * 100 < out["evening_percent_of_online"]
            submitted = local(day, rng.uniform(17 * 60, 22 * 60) if evening else rng.uniform(6 * 60, 17 * 60))
            channel = Channel.ONLINE
        else:
            submitted = local(day, rng.uniform(450, 990))
            channel = Channel.POST if rng.random() * 100 < out["post_percent_of_offline"] else Channel.COUNTER
        return {
            "procedure": p,
            "agency": agency,
            "channel": channel,
            "submitted_at": submitted,
            "targets": targets,
            "applicant": self.pool[rng.randrange(len(self.pool))],
        }

    def _build(self, draft: dict, code: str) -> None:
        rng, out, p, targets = self.rng, self.calibration.outcomes, draft["procedure"], draft["targets"]
        agency, channel, submitted = self.agencies[draft["agency"]], draft["channel"], draft["submitted_at"]
        officers = self.officers.get(agency.pk, {})
        counter, leader = officers.get(Role.COUNTER_OFFICER), officers.get(Role.LEADER)
        online = channel == Channel.ONLINE
        user_id, name, identity, phone = draft["applicant"]
        place = agency.place if agency.place in self.place_set else rng.choice(self.places)
        dossier = Dossier(
            code=code,
            procedure_id=p.pk,
            channel=channel,
            status=Status.SUBMITTED,
            applicant_id=user_id,
            applicant_name=name,
            applicant_identity=identity,
            applicant_phone=phone,
            applicant_address=f"{self.names.hamlet()}, {place}, {self.address_suffix}",
            applicant_verified=online or rng.random() < 0.9,
            receiving_agency_id=agency.pk,
            current_agency_id=agency.pk,
            submitted_at=submitted,
            fee_due=p.fee_online if online else p.fee_counter,
        )
        # The whole life on the calendar: (time, action, to_status, actor, step, note).
        timeline = [
            (submitted, "submit", Status.SUBMITTED, user_id if online else counter, None, Channel(channel).label)
        ]
        roll = rng.random() * 100
        late = eresult = digitized = False
        new_due = delivery = None
        if roll < out["refused_percent"]:
            refused = self._office_moment(submitted + dt.timedelta(minutes=rng.uniform(30, 600)))
            timeline.append((refused, "refuse", Status.REFUSED, counter, None, rng.choice(REFUSAL_REASONS)))
        else:
            accepted = submitted + dt.timedelta(minutes=rng.uniform(5, 30))
            if online:
                accepted = self._office_moment(submitted + dt.timedelta(minutes=rng.uniform(15, 240)))
            due = self.calendar.due_at(accepted, p.days)
            dossier.original_due_at = dossier.due_at = due
            timeline.append((accepted, "accept", Status.IN_PROCESS, counter, p.steps[0][0] if p.steps else None, ""))
            if roll < out["refused_percent"] + out["withdrawn_percent"]:
                at = self._office_moment(accepted + (due - accepted) * rng.uniform(0.1, 0.6))
                timeline.append((at, "withdraw", Status.WITHDRAWN, counter, None, rng.choice(WITHDRAW_REASONS)))
            else:
                late = self.quota["late"].draw(1 - targets["on_time_share"] / 100)
                eresult = self.quota["eresult"].draw(targets["electronic_result_share"] / 100)
                digitized = eresult and self.quota["digitized"].draw(
                    targets["digitized_share"] / max(targets["electronic_result_share"], 0.01)
                )
                finished = self._finish(accepted, due, p.days, late)
                rescheduled = late and rng.random() * 100 < out["rescheduled_percent_of_late"]
                self._steps(timeline, p, officers, accepted, finished)
                if rescheduled:  # Mẫu 04 on the appointed day; the new appointment is met
                    timeline.append(
                        (
                            self._working_moment(due.date()),
                            "reschedule",
                            None,
                            leader,
                            None,
                            "Hồ sơ cần xác minh thêm; xin lỗi và hẹn lại ngày trả kết quả.",
                        )
                    )
                    new_due = closing_time(finished.date())
                timeline.append((finished, "approve", Status.RESULT_READY, leader, None, ""))
                if eresult:
                    timeline.append((finished + dt.timedelta(minutes=1), "attach_result", None, leader, None, ""))
                if eresult and online:
                    returned = finished + dt.timedelta(minutes=rng.uniform(10, 120))
                    delivery = Delivery.ONLINE
                else:
                    pickup = self.calendar.add_working_days(finished.date(), rng.choice([0, 0, 1, 1, 2, 3]))
                    returned = max(finished + dt.timedelta(minutes=10), self._working_moment(pickup))
                    delivery = Delivery.POST if channel == Channel.POST else Delivery.COUNTER
                timeline.append((returned, "return_result", Status.RETURNED, counter, None, delivery.label))
        timeline.sort(key=lambda item: item[0])
        self._apply(dossier, timeline, p, digitized, leader, new_due, delivery)

    def _finish(self, accepted: dt.datetime, due: dt.datetime, days: int, late: bool) -> dt.datetime:
        rng, calendar = self.rng, self.calendar
        start = calendar.start_day(accepted)
        due_day = due.astimezone(LOCAL_TZ).date()
        if late:
            day = calendar.add_working_days(due_day, rng.randint(1, 5))
        elif days >= 2 and rng.random() * 100 < self.calibration.outcomes["early_percent_of_on_time"]:
            day = calendar.add_working_days(start, rng.randint(1, days - 1))
        else:
            day = due_day
        moment = self._working_moment(day)
        return max(moment, accepted + dt.timedelta(minutes=30))

    def _steps(
        self, timeline: list, p: ProcedureInfo, officers: dict, accepted: dt.datetime, finished: dt.datetime
    ) -> None:
        """Hand-offs between steps (Mẫu 05), spread over the processing time by step length."""
        total = sum(days for _, _, days in p.steps) or 1
        elapsed = 0.0
        for (_order, role, days), following in zip(p.steps, p.steps[1:]):
            elapsed += days
            at = accepted + (finished - accepted) * (elapsed / total)
            timeline.append((at, "forward", Status.IN_PROCESS, officers.get(role), following[0], ""))

    def _apply(
        self, dossier: Dossier, timeline: list, p: ProcedureInfo, digitized: bool, leader, new_due, delivery
    ) -> None:
        """Cut the life at `now` and write the dossier as it stands then."""
        batch, status, step = self.batch, Status.SUBMITTED, None
        kept = [item for item in timeline if item[0] < self.now]
        events = []
        for at, action, to_status, actor, to_step, note in kept:
            from_status = status
            status = to_status or status
            if action in ("accept", "forward"):
                step = to_step
            elif action in ("approve", "refuse", "withdraw"):
                step = None
            if action == "accept":
                dossier.accepted_at = at
            elif action == "reschedule":
                dossier.rescheduled = True
                dossier.due_at = new_due
            elif action == "approve":
                dossier.finished_at = at
                dossier.timeliness = timeliness_of(dossier)
            elif action == "attach_result":
                dossier.has_electronic_result = True
            elif action == "return_result":
                dossier.returned_at = dossier.closed_at = at
                dossier.delivery = delivery
            elif action in ("refuse", "withdraw"):
                dossier.closed_at = at
            events.append(
                DossierEvent(
                    dossier=dossier,
                    at=at,
                    action=action,
                    from_status=from_status if action != "submit" else "",
                    to_status=status,
                    from_agency_id=None if action == "submit" else dossier.receiving_agency_id,
                    to_agency_id=dossier.receiving_agency_id,
                    actor_id=actor,
                    step=step,
                    note=note,
                    due_at=dossier.due_at,
                )
            )
        dossier.status, dossier.current_step = status, step or 0
        if dossier.status not in (Status.RETURNED, Status.REFUSED, Status.WITHDRAWN):
            self.stats.open += 1
        # Components: online ones are files; counter ones paper, scanned when the dossier is digitized.
        online = dossier.channel == Channel.ONLINE
        provided = [(rid, name) for rid, name, mandatory in p.components if mandatory or self.rng.random() < 0.5]
        is_digitized = digitized and dossier.has_electronic_result
        for index, (rid, name) in enumerate(provided):
            on_paper = not online or (not is_digitized and dossier.has_electronic_result and index == 0)
            scanned = online and not on_paper or is_digitized
            batch.components.append(
                DossierComponent(
                    dossier=dossier, required_id=rid, name=name, on_paper=on_paper, file=self.file if scanned else None
                )
            )
        dossier.digitized = bool(provided) and is_digitized
        if dossier.has_electronic_result:
            item = EDataItem(
                owner_id=dossier.applicant_id,
                result_type=p.result_type,
                title=p.result_name,
                file=self.file,
                source_dossier=dossier,
                issued_at=dossier.finished_at,
            )
            batch.edata.append(item)
            batch.results.append(
                ElectronicResult(
                    dossier=dossier,
                    number=f"{dossier.code[-4:]}/{dossier.finished_at:%Y}",
                    file=self.file,
                    edata_item=item,
                    issued_at=dossier.finished_at,
                    issued_by_id=leader,
                )
            )
        if dossier.fee_due:
            paid_at = dossier.submitted_at + dt.timedelta(minutes=5) if online else dossier.accepted_at
            if paid_at and paid_at < self.now and dossier.status != Status.REFUSED:
                dossier.fee_paid = dossier.fee_due
                batch.payments.append(
                    Payment(
                        dossier=dossier,
                        amount=dossier.fee_due,
                        paid_at=paid_at,
                        method=Payment.Method.ONLINE if online else Payment.Method.COUNTER,
                        transaction_ref=f"DEMO-{dossier.code}" if online else "",
                        recorded_by_id=None if online else events[0].actor_id,
                    )
                )
        batch.dossiers.append(dossier)
        batch.events += events

    # ------------------------------------------------------------ writing

    def _flush(self) -> None:
        b = self.batch
        if not b.dossiers:
            return
        with transaction.atomic():
            Dossier.objects.bulk_create(b.dossiers)
            EDataItem.objects.bulk_create(b.edata)
            for rows, model in (
                (b.events, DossierEvent),
                (b.components, DossierComponent),
                (b.results, ElectronicResult),
                (b.payments, Payment),
                (b.counters, CodeCounter),
            ):
                model.objects.bulk_create(rows, batch_size=2000)
        s = self.stats
        s.dossiers += len(b.dossiers)
        s.events += len(b.events)
        s.components += len(b.components)
        s.results += len(b.results)
        s.payments += len(b.payments)
        self.batch = Batch()
        reset_queries()


def digest() -> str:
    """A fingerprint of the generated dossiers (codes, statuses, timing, flags):
    equal for two runs with the same seed and end date."""
    h = hashlib.sha256()
    for row in (
        Dossier.objects.order_by("code")
        .values_list(
            "code",
            "procedure__code",
            "channel",
            "status",
            "timeliness",
            "digitized",
            "has_electronic_result",
            "fee_due",
            "submitted_at",
            "finished_at",
        )
        .iterator(chunk_size=5000)
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


@dataclass
class DemoResult:
    stats: Stats
    agencies: int
    procedures: int
    fields: int


def build_demo_province(*, dossiers: int, seed: int, until: dt.date, log=None) -> DemoResult:
    """The whole demo, in one transaction: nothing is left half-built."""
    from chinhquyenso.procedures.models import Field

    log = log or (lambda message: None)
    if dossiers < 0:
        raise DomainError("Số hồ sơ phải không âm.", "dossiers")
    if until < START:
        raise DomainError(f"Ngày kết thúc phải từ {START:%d/%m/%Y} trở đi.", "until")
    services.ensure_empty()
    rng = random.Random(seed)
    password_hash = services.hash_demo_password()
    with transaction.atomic():
        admin = services.create_admin(password_hash)
        services.build_calendar(actor=admin)
        agencies = services.build_agencies(actor=admin)
        log(f"Đã tạo {len(agencies)} cơ quan.")
        services.build_accounts(actor=admin, agencies=agencies, password_hash=password_hash, rng=rng)
        catalog = services.build_catalog(actor=admin)
        log(f"Đã nạp {len(catalog)} thủ tục hành chính.")
        synonyms = assistant.load_synonyms(actor=admin)
        faq = assistant.load_faq(actor=admin)
        log(f"Đã nạp {synonyms['created']} từ đồng nghĩa và {faq['created']} câu hỏi thường gặp cho trợ lý thủ tục.")
        generator = DossierGenerator(actor=admin, total=dossiers, seed=rng.randrange(2**32), until=until, log=log)
        stats = generator.run()
        # Bulk-written dossiers bypass the workflow's events: aggregate them once.
        events.publish("DossiersLoaded")
        reported = services.build_reporting(actor=admin, until=until, rng=rng)
        log(f"Đã nạp sổ chỉ tiêu, mẫu báo cáo và {format_number(reported)} số liệu báo cáo mẫu.")
        from chinhquyenso.demo.feedback import build_feedback  # feedback comes after the reorganizations

        build_feedback(actor=admin, seed=rng.randrange(2**32), until=until, password_hash=password_hash, log=log)
        audit.record(
            actor=admin,
            action="demo.generate",
            object_type="dossiers.Dossier",
            object_id="demo",
            after={"dossiers": stats.dossiers, "events": stats.events, "seed": seed, "until": until},
        )
        return DemoResult(
            stats=stats,
            agencies=Agency.objects.count(),
            procedures=Procedure.objects.count(),
            fields=Field.objects.count(),
        )

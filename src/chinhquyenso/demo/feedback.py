"""Citizen feedback (phản ánh, kiến nghị) for the demo province, calibrated to
seed 001: from 01/01/2024 to 30/9/2024 the province received 399 reports,
383 were resolved by 30/9 (95,98%), 16 still open, more than 20% late.

Runs after the dossiers, when every 2025 reorganization has been applied:
each report is placed in a commune valid on its receipt day and handled by
the agency valid then; one still open when its agency was reorganized
belongs to the successor, as `feedback.services.move_open_feedback` does.
Reports are bulk-written with their timeline, like the dossiers; the
categories and the communes' reference points go through the services'
data (feedback/data/categories.json, demo/data/feedback.json)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole, User
from chinhquyenso.core import audit
from chinhquyenso.core.calendar import LOCAL_TZ, WorkingCalendar, closing_time
from chinhquyenso.core.models import CodeCounter
from chinhquyenso.demo import communes, services
from chinhquyenso.demo.generator import Quota
from chinhquyenso.feedback import services as feedback
from chinhquyenso.feedback.models import AreaPoint, Category, Feedback, FeedbackEvent, Status
from chinhquyenso.org.models import Agency, AgencyKind, Level, Succession

IOC_USERNAME = services.IOC_USERNAME


@dataclass
class FeedbackStats:
    reports: int = 0
    open: int = 0
    points: int = 0


def _moment(day: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ) + dt.timedelta(minutes=minutes)


class FeedbackGenerator:
    def __init__(self, *, actor, seed: int, until: dt.date, log=None):
        self.actor, self.until = actor, until
        self.rng = random.Random(seed)
        self.log = log or (lambda message: None)
        self.data = services.load("feedback.json")
        self.now = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
        self.calendar = WorkingCalendar.load()
        self.stats = FeedbackStats()

    # ------------------------------------------------------------ setup

    def _agencies(self) -> None:
        self.agencies = {a.pk: a for a in Agency.objects.all()}
        self.successor = dict(
            Succession.objects.filter(takes_open_work=True, successor__isnull=False)
            .exclude(reorganization__kind="transfer_procedure")
            .order_by("reorganization__effective_date", "id")
            .values_list("source_id", "successor_id")
        )
        self.communes = [a for a in self.agencies.values() if a.kind == AgencyKind.COMMUNE_COMMITTEE]
        self.categories = {c.code: c for c in Category.objects.filter(is_active=True)}
        spec = json.loads(feedback.DEFAULT_CATEGORIES.read_text(encoding="utf-8"))["categories"]
        # The first version of each fixed agency: the version valid on a day is found from it.
        self.fixed = {}
        for item in spec:
            first = Agency.objects.filter(code=item.get("handling_agency") or "").order_by("valid_from").first()
            if first is not None and item["code"] in self.categories:
                self.fixed[item["code"]] = first.pk

    def version_on(self, agency_id: int, day: dt.date) -> int:
        """The version of an agency's lineage valid on `day` (following open-work successions)."""
        seen = set()
        while agency_id not in seen:
            seen.add(agency_id)
            agency = self.agencies[agency_id]
            if agency.valid_to is None or agency.valid_to > day or agency_id not in self.successor:
                return agency_id
            agency_id = self.successor[agency_id]
        return agency_id

    def _area_points(self) -> None:
        """One invented point per commune version: near its district's centre
        (demo/data/feedback.json), deterministic from the commune's code;
        a commune formed by a merger sits at its sources' mean point; a unit with
        no former commune in the demo near the point demo/data/communes_2025.json gives."""
        centers = self.data["district_centers"]
        spread = self.data["commune_spread_degrees"]
        official_centers = communes.centers()
        points: dict[int, tuple[float, float]] = {}
        for commune in sorted(self.communes, key=lambda a: (a.valid_from, a.pk)):
            sources = [
                s for s, t in Succession.objects.filter(successor=commune).values_list("source_id", "successor_id")
            ]
            known = [points[s] for s in sources if s in points]
            if known:
                points[commune.pk] = (sum(p[0] for p in known) / len(known), sum(p[1] for p in known) / len(known))
                continue
            if commune.admin_unit_code in official_centers:
                # A unit of the former Kiên Giang, which has no former commune in the demo.
                lat, lon = official_centers[commune.admin_unit_code]
                h = hashlib.sha256(commune.code.encode()).digest()
                points[commune.pk] = (lat + (h[0] / 255 - 0.5) * spread, lon + (h[1] / 255 - 0.5) * spread)
                continue
            district = commune.parent
            while district is not None and district.code not in centers and district.parent_id:
                district = district.parent
            lat, lon = centers.get(getattr(district, "code", ""), (10.5, 105.2))
            h = hashlib.sha256(commune.code.encode()).digest()
            dlat = (h[0] / 255 - 0.5) * 2 * spread
            dlon = (h[1] / 255 - 0.5) * 2 * spread
            points[commune.pk] = (min(10.95, max(10.2, lat + dlat)), min(105.6, max(104.8, lon + dlon)))
        AreaPoint.objects.bulk_create(
            AreaPoint(agency_id=pk, latitude=f"{lat:.6f}", longitude=f"{lon:.6f}") for pk, (lat, lon) in points.items()
        )
        self.stats.points = len(points)

    def _ioc_operator(self) -> User:
        user = accounts.create_officer(
            actor=self.actor,
            username=IOC_USERNAME,
            password=None,
            full_name="Điều phối viên IOC",
            global_role=GlobalRole.IOC_OPERATOR,
        )
        User.objects.filter(pk=user.pk).update(password=self.password_hash, email="ioc@angiang.gov.vn")
        return user

    # ------------------------------------------------------------ one report

    def _handler(self, category: Category, commune: Agency, day: dt.date) -> int:
        if category.code in self.fixed:
            return self.version_on(self.fixed[category.code], day)
        if (
            category.handling_level == Level.DISTRICT
            and commune.parent
            and commune.parent.kind == AgencyKind.DISTRICT_COMMITTEE
        ):
            return commune.parent_id
        return commune.pk

    def _pick(self, weights: dict[str, float]) -> str:
        keys = sorted(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def _office_time(self, day: dt.date) -> dt.datetime:
        return _moment(day, self.rng.uniform(7.5 * 60, 16.5 * 60))

    def _draft(self, received: dt.datetime) -> dict:
        day = received.astimezone(LOCAL_TZ).date()
        code = self._pick({k: v for k, v in self.data["category_weights"].items() if k in self.categories})
        category = self.categories[code]
        communes = [c for c in self.communes if c.is_valid_on(day)]
        commune = self.rng.choice(communes)
        place = commune.name.replace("UBND ", "")
        start = self.calendar.start_day(received)
        return {
            "received": received,
            "category": category,
            "area": commune,
            "place": place,
            "start": start,
            "handler": self._handler(category, commune, day),
            "due": closing_time(self.calendar.add_working_days(start, category.handling_days)),
            "description": self.rng.choice(self.data["texts"][code]).format(place=place),
        }

    def _resolve_on(self, draft: dict, day: dt.date) -> None:
        draft["resolved"] = self._office_time(day)
        if draft["resolved"] < draft["received"]:
            draft["resolved"] = draft["received"] + dt.timedelta(hours=2)

    def _on_time_day(self, draft: dict, latest: dt.date | None = None) -> dt.date:
        days = draft["category"].handling_days
        if latest is not None:
            days = min(days, self.calendar.working_days_between(draft["start"], latest))
        k = min(days, max(0, round(self.rng.triangular(1, days, min(days, 6)))))
        return self.calendar.add_working_days(draft["start"], k)

    def _late_day(self, draft: dict, latest: dt.date | None = None) -> dt.date:
        due_day = draft["due"].astimezone(LOCAL_TZ).date()
        most = 10 if latest is None else min(10, self.calendar.working_days_between(due_day, latest))
        return self.calendar.add_working_days(due_day, self.rng.randint(1, max(1, most)))

    # ------------------------------------------------------------ the run

    def _receipt_moments(self, start: dt.date, end: dt.date, count: int) -> list[dt.datetime]:
        span = (end - start).days + 1
        return sorted(
            _moment(start + dt.timedelta(days=self.rng.randrange(span)), self.rng.uniform(6 * 60, 22 * 60))
            for _ in range(count)
        )

    def run(self, password_hash: str) -> FeedbackStats:
        self.password_hash = password_hash
        feedback.load_categories(actor=self.actor)
        self._agencies()
        self._area_points()
        self._ioc_operator()
        calibrated = self.data["calibrated"]
        c_start, c_end = dt.date.fromisoformat(calibrated["start"]), dt.date.fromisoformat(calibrated["end"])
        drafts: list[dict] = []
        if self.until >= c_end:
            drafts += self._calibrated(c_start, c_end, calibrated)
        after_start = c_end + dt.timedelta(days=1) if self.until >= c_end else c_start
        if self.until >= after_start:
            drafts += self._after(after_start)
        self._write(drafts)
        audit.record(
            actor=self.actor,
            action="demo.feedback",
            object_type="feedback.Feedback",
            object_id="demo",
            after={"reports": self.stats.reports, "open": self.stats.open, "points": self.stats.points},
        )
        return self.stats

    def _calibrated(self, start: dt.date, end: dt.date, spec: dict) -> list[dict]:
        """Exactly `received` reports; all but the last `received - resolved_by_end`
        resolved by the period's end, `late` of them after their deadline."""
        drafts = [self._draft(m) for m in self._receipt_moments(start, end, spec["received"])]
        resolved, still_open = drafts[: spec["resolved_by_end"]], drafts[spec["resolved_by_end"] :]
        can_be_late = [
            d for d in resolved if self.calendar.add_working_days(d["due"].astimezone(LOCAL_TZ).date(), 1) <= end
        ]
        late = {id(d) for d in self.rng.sample(can_be_late, min(spec["late"], len(can_be_late)))}
        last_minute = _moment(end + dt.timedelta(days=1), 0) - dt.timedelta(minutes=1)
        for draft in resolved:
            day = self._late_day(draft, end) if id(draft) in late else self._on_time_day(draft, end)
            self._resolve_on(draft, min(day, end))
            if draft["resolved"] > last_minute:  # received late on the last evening: resolved that night
                draft["resolved"] = draft["received"] + (last_minute - draft["received"]) / 2
        after_end = self.calendar.next_working_day(end)
        for draft in still_open:  # resolved in the following weeks (or still open now)
            due_day = draft["due"].astimezone(LOCAL_TZ).date()
            day = max(after_end, self._on_time_day(draft))
            self._resolve_on(draft, day if day <= due_day else self._late_day(draft))
        return drafts

    def _after(self, start: dt.date) -> list[dict]:
        spec = self.data["after"]
        days = (self.until - start).days + 1
        drafts = [self._draft(m) for m in self._receipt_moments(start, self.until, round(days * spec["per_day"]))]
        quota = {name: Quota(self.rng) for name in ("late", "rejected", "merged")}
        recent: dict[str, dict] = {}
        for draft in drafts:
            code = draft["category"].code
            original = recent.get(code)
            if (
                quota["merged"].draw(spec["merged_percent"] / 100)
                and original
                and draft["received"] - original["received"] < dt.timedelta(days=7)
            ):
                # someone else reports the same thing at the same place: an operator merges it
                draft.update(
                    {k: original[k] for k in ("area", "place", "handler", "start", "due")},
                    merged_into=original,
                    description=self.rng.choice(self.data["texts"][code]).format(place=original["place"]),
                )
                continue
            recent[code] = draft
            if (
                self.now - draft["received"] < dt.timedelta(days=3)
                and self.rng.random() < spec["unassigned_recent_percent"] / 100
            ):
                draft["handler"] = None  # the last days' reports an IOC operator has not routed yet
                continue
            if quota["rejected"].draw(spec["rejected_percent"] / 100):
                draft["rejected"] = self._office_time(
                    self.calendar.add_working_days(draft["start"], self.rng.randint(0, 2))
                )
                continue
            late = quota["late"].draw(spec["late_percent"] / 100)
            self._resolve_on(draft, self._late_day(draft) if late else self._on_time_day(draft))
        return drafts

    def _write(self, drafts: list[dict]) -> None:
        drafts.sort(key=lambda d: d["received"])
        rated_quota = Quota(self.rng)
        counters: dict[int, int] = {}
        citizens = list(
            User.objects.filter(kind=User.Kind.CITIZEN)
            .exclude(password__startswith="!")
            .order_by("id")
            .values_list("pk", "full_name", "phone")
        )
        names = services.NameMaker(self.rng)
        rows, events = [], []
        for index, d in enumerate(drafts):
            year = d["received"].astimezone(LOCAL_TZ).year
            counters[year] = counters.get(year, 0) + 1
            resolved = d.get("resolved")
            if resolved is not None and resolved >= self.now:
                resolved = None
            rejected = d.get("rejected") if d.get("rejected") and d["rejected"] < self.now else None
            handler = d["handler"]
            finished = resolved or rejected
            if handler is not None:
                # still open when its agency was reorganized: the successor holds it
                handler = self.version_on(handler, (finished or self.now).astimezone(LOCAL_TZ).date())
            assigned_at = d["received"] if handler is not None else None
            started = self._office_time(self.calendar.next_working_day(d["start"])) if handler else None
            if started and started < d["received"]:
                started = d["received"] + dt.timedelta(hours=1)
            fb = Feedback(
                code=f"PA-{year}-{counters[year]:06d}",
                category=d["category"],
                title=d["description"][:120],
                description=d["description"],
                area=d["area"],
                agency_id=handler,
                channel="app",
                received_at=d["received"],
                assigned_at=assigned_at,
                due_at=d["due"],
                token=hashlib.sha256(f"demo-token-{index}-{self.rng.random()}".encode()).hexdigest()[:40],
                content_hash=hashlib.sha256(f"demo-{index}".encode()).hexdigest(),
                phone_verified=True,
            )
            if index % 60 == 0 and citizens:
                pk, full_name, phone = citizens[(index // 60) % len(citizens)]
                fb.reporter_id, fb.reporter_name, fb.reporter_phone, fb.channel = pk, full_name, phone, "web"
            else:
                fb.reporter_name = names.person()[0]
                fb.reporter_phone = f"09{self.rng.randrange(10**7, 10**8)}"
            timeline = [("submit", Status.RECEIVED, d["received"], "", None)]
            if handler is not None:
                timeline.append(
                    ("assign", Status.ASSIGNED, d["received"], f"Chuyển {self.agencies[handler].name} xử lý.", handler)
                )
            if d.get("merged_into"):
                fb.status, fb.closed_at = Status.MERGED, d["received"] + dt.timedelta(hours=3)
                timeline.append(
                    ("merge", Status.MERGED, fb.closed_at, "Trùng nội dung, gộp vào phản ánh khác.", handler)
                )
            elif rejected:
                fb.status, fb.rejected_at = Status.REJECTED, max(rejected, d["received"] + dt.timedelta(hours=1))
                fb.rejection_reason = self.rng.choice(self.data["rejections"])
                refusal_end = self.calendar.add_working_days(d["start"], d["category"].refusal_days)
                fb.refusal_on_time = fb.rejected_at.astimezone(LOCAL_TZ).date() <= refusal_end
                timeline.append(("reject", Status.REJECTED, fb.rejected_at, fb.rejection_reason, handler))
            elif resolved:
                if started and started > resolved:
                    started = None
                if started:
                    timeline.append(("start", Status.IN_PROGRESS, started, "Cơ quan đang xử lý.", handler))
                fb.status, fb.resolved_at = Status.RESOLVED, resolved
                fb.on_time = resolved.astimezone(LOCAL_TZ).date() <= d["due"].astimezone(LOCAL_TZ).date()
                fb.handling_working_days = self.calendar.working_days_between(
                    d["start"], resolved.astimezone(LOCAL_TZ).date()
                )
                fb.public_reply = self.rng.choice(self.data["replies"])
                timeline.append(("resolve", Status.RESOLVED, resolved, fb.public_reply, handler))
                if rated_quota.draw(self.data["rated_percent"] / 100):
                    rated_at = resolved + dt.timedelta(hours=self.rng.randint(3, 72))
                    if rated_at < self.now:
                        weights = (
                            self.data["rating_weights"] if fb.on_time else {"5": 15, "4": 25, "3": 25, "2": 20, "1": 15}
                        )
                        fb.rating, fb.rated_at, fb.closed_at = int(self._pick(weights)), rated_at, rated_at
                        fb.status = Status.CLOSED
                        timeline.append(("rate", Status.CLOSED, rated_at, "", handler))
            else:
                self.stats.open += 1
                if handler is None:
                    fb.status = Status.RECEIVED
                elif started and started < self.now:
                    fb.status = Status.IN_PROGRESS
                    timeline.append(("start", Status.IN_PROGRESS, started, "Cơ quan đang xử lý.", handler))
                else:
                    fb.status = Status.ASSIGNED
            rows.append(fb)
            events.append(timeline)
        Feedback.objects.bulk_create(rows, batch_size=1000)
        by_draft = {id(d): row for d, row in zip(drafts, rows)}
        merged = []
        for d, row in zip(drafts, rows):
            if d.get("merged_into"):
                row.merged_into = by_draft[id(d["merged_into"])]
                merged.append(row)
        Feedback.objects.bulk_update(merged, ["merged_into"])
        public = {"submit", "assign", "start", "resolve", "reject", "merge"}
        FeedbackEvent.objects.bulk_create(
            (
                FeedbackEvent(
                    feedback=row,
                    at=at,
                    action=action,
                    to_status=status,
                    text=text,
                    agency_id=agency,
                    is_public=action in public,
                )
                for row, timeline in zip(rows, events)
                for action, status, at, text, agency in timeline
            ),
            batch_size=2000,
        )
        CodeCounter.objects.bulk_create(CodeCounter(key=f"PA-{year}", value=value) for year, value in counters.items())
        self.stats.reports = len(rows)


def build_feedback(*, actor, seed: int, until: dt.date, password_hash: str | None = None, log=None) -> FeedbackStats:
    """Categories, commune points, the IOC operator account and the reports."""
    stats = FeedbackGenerator(actor=actor, seed=seed, until=until, log=log).run(password_hash or make_password(None))
    (log or (lambda m: None))(f"Đã tạo {stats.reports} phản ánh, kiến nghị ({stats.open} đang xử lý).")
    return stats

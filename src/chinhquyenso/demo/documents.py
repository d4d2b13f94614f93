"""Documents flowing between a few agencies of the demo province, and signed e-results, made after
the province is built (`cqs seed-demo`, demo.management.commands.seed_demo).

Everything goes through the owning apps' services, as an officer's clicks would: the documents
app's outgoing services (draft → submit → approve → the leader's personal signature → the clerk's
issue with a number and the agency's signature → distribution into the recipients' incoming
registers, or to the national e-document exchange over the data bus), its incoming services
(paper registration, assignment, handling) and dossiers.services for the e-results (attach_result
signs with the agency's key). Signing calls the demo PKI's time-stamp service, so none of this runs
inside a transaction: each service call is its own.

The scenario is data (demo/data/documents.json): which agencies exchange documents and each
document's stage. Signed documents are dated now (a signature's time is the real clock's); the
overdue paper document is dated back so its deadline has passed."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role, User
from chinhquyenso.core import pdf
from chinhquyenso.core.calendar import LOCAL_TZ, calendar_for, local_date
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.uploads import store_generated
from chinhquyenso.demo import services
from chinhquyenso.org.models import Agency

CLERK_SUFFIX = services.CLERK_SUFFIX
RESULT_PROCEDURE = "1.001193"  # Đăng ký khai sinh: free, a commune's, specialist then leader
RESULT_AGENCY = "ubnd-xa-my-hoa-hung"
TEMPLATE = "demo/van_ban.html"


def scenario() -> dict:
    return services.load("documents.json")


def agency_keys() -> list[str]:
    """The demo keys (agencies.json) of the agencies that exchange documents."""
    return list(scenario()["agencies"])


def clerk_username(key: str) -> str:
    return f"{key}.{CLERK_SUFFIX}"


@dataclass
class DocumentStats:
    outgoing: int = 0
    issued: int = 0
    signatures: int = 0
    results: int = 0
    # Status label → count, read back from the database once the flow ran.
    outgoing_statuses: dict = field(default_factory=dict)
    incoming_statuses: dict = field(default_factory=dict)


class DocumentFlow:
    def __init__(self, *, actor, seed: int):
        self.actor = actor
        self.rng = random.Random(seed)
        self.data = scenario()
        self.stats = DocumentStats()

    # ------------------------------------------------------------ who

    def agency(self, key: str) -> Agency:
        return services._agency(key, f"documents.json: {key}")

    def officer(self, key: str, suffix: str) -> User:
        user = User.objects.filter(username=f"{key}.{suffix}").first()
        if user is None:
            raise DomainError(f"Không có tài khoản {key}.{suffix} trong tỉnh mẫu.", "documents.json")
        return user

    def drafter(self, key):
        return self.officer(key, services.ROLE_SUFFIX[Role.SPECIALIST])

    def leader(self, key):
        return self.officer(key, services.ROLE_SUFFIX[Role.LEADER])

    def clerk(self, key):
        return self.officer(key, CLERK_SUFFIX)

    def create_clerks(self, password_hash: str) -> list[User]:
        """`<key>.vanthu` (Role.CLERK, "Văn thư") in the current agency of each exchanging key."""
        with transaction.atomic():
            return self._create_clerks(password_hash)

    def _create_clerks(self, password_hash: str) -> list[User]:
        names = services.NameMaker(self.rng)
        created = []
        for key in self.data["agencies"]:
            if User.objects.filter(username=clerk_username(key)).exists():
                continue
            created.append(
                accounts.create_officer(
                    actor=self.actor,
                    username=clerk_username(key),
                    password=None,
                    full_name=names.person()[0],
                    memberships=[(self.agency(key), Role.CLERK)],
                )
            )
        User.objects.filter(pk__in=[u.pk for u in created]).update(password=password_hash)
        return created

    # ------------------------------------------------------------ files

    def render(
        self,
        *,
        issuer: Agency,
        document_type,
        excerpt: str,
        body,
        recipients,
        signer,
        signer_title: str,
        unit: str = "",
    ) -> bytes:
        letter = not document_type.abbreviation
        suffix = "-".join(p for p in (document_type.abbreviation, _abbreviation(issuer), unit) if p)
        context = {
            "title": document_type.name,
            "excerpt": excerpt,
            "excerpt_after_about": excerpt.removeprefix("Về việc ").removeprefix("Về "),
            "letter": letter,
            "issuer_name": issuer.name,
            "parent_name": issuer.parent.name if issuer.parent_id else "",
            "symbol_suffix": suffix,
            "place_date": pdf.place_date(timezone.now()),
            "body": body,
            "recipients": recipients,
            "signer_title_lines": signer_title.splitlines(),
            "signer_name": signer.full_name,
        }
        return pdf.render_pdf(TEMPLATE, context)

    def stored_pdf(self, data: bytes, name: str):
        return store_generated(data, content_type="application/pdf", extension="pdf", name=name)

    # ------------------------------------------------------------ outgoing

    def run(self) -> DocumentStats:
        from chinhquyenso.documents.models import Direction, Document

        for spec in self.data["outgoing"]:
            self.outgoing(spec)
        for spec in self.data.get("incoming_paper", []):
            self.paper_incoming(spec)
        for direction, counts in (
            (Direction.OUTGOING, self.stats.outgoing_statuses),
            (Direction.INCOMING, self.stats.incoming_statuses),
        ):
            for document in Document.objects.filter(direction=direction).only("status", "direction"):
                label = document.get_status_display()
                counts[label] = counts.get(label, 0) + 1
        return self.stats

    def outgoing(self, spec: dict) -> None:
        from chinhquyenso.documents.models import DocumentType
        from chinhquyenso.documents.services import outgoing

        key, stage = spec["from"], spec["stage"]
        issuer = self.agency(key)
        drafter, leader = self.drafter(key), self.leader(key)
        document_type = DocumentType.objects.get(code=spec["type"])
        targets = [self.agency(k) for k in spec.get("to", [])]
        external = spec.get("external", [])
        recipients = [{"agency": a.pk} for a in targets] + [
            {"electronic_code": e["electronic_code"], "name": e["name"]} for e in external
        ]
        names = [a.name for a in targets] + [e["name"] for e in external]
        metadata = {
            "document_type": document_type,
            "excerpt": spec["excerpt"],
            "urgency": spec.get("urgency", "normal"),
            "unit_abbreviation": spec.get("unit_abbreviation", ""),
            "signer_name": leader.full_name,
            "signer_title": " ".join(spec.get("signer_title", "").split()),
        }

        def draft_file(body):
            data = self.render(
                issuer=issuer,
                document_type=document_type,
                excerpt=spec["excerpt"],
                body=body,
                recipients=names,
                signer=leader,
                signer_title=spec.get("signer_title", ""),
                unit=spec.get("unit_abbreviation", ""),
            )
            return self.stored_pdf(data, f"du-thao-{document_type.code}.pdf")

        document = outgoing.create_draft(
            drafter, agency=issuer, file=draft_file(spec["body"]), recipients=recipients, **metadata
        )
        self.stats.outgoing += 1
        document = self._through(document, stage, drafter=drafter, leader=leader, clerk=self.clerk(key))
        if stage in ("issued", "recalled", "replaced"):
            for target_key, handling in spec.get("handling", {}).items():
                self.handle(document, self.agency(target_key), target_key, handling)
        if stage == "recalled":
            outgoing.recall(document, leader, spec.get("recall_reason") or "Văn bản ban hành chưa đúng.")
        if stage == "replaced":
            replacement = outgoing.create_replacement(
                document, drafter, file=draft_file(spec.get("replacement_body") or spec["body"])
            )
            self.stats.outgoing += 1
            self._through(replacement, "issued", drafter=drafter, leader=leader, clerk=self.clerk(key))

    def _through(self, document, stage: str, *, drafter, leader, clerk):
        """Take a draft as far as `stage` through the outgoing services."""
        from chinhquyenso.documents.services import outgoing

        if stage == "draft":
            outgoing.comment(document, drafter, "Dự thảo lần 1, xin ý kiến trước khi trình lãnh đạo.")
            return document
        outgoing.submit(document, drafter)
        if stage == "in_review":
            return document
        outgoing.approve(document, leader, note="Đồng ý nội dung dự thảo.")
        if stage == "approved":
            return document
        outgoing.sign(document, leader)
        self.stats.signatures += 1
        if stage == "signed":
            return document
        outgoing.issue(document, clerk)
        self.stats.signatures += 1
        self.stats.issued += 1
        document.refresh_from_db()
        return document

    # ------------------------------------------------------------ incoming

    def handle(self, outgoing_document, agency: Agency, key: str, handling: str) -> None:
        """The copy `agency` received of `outgoing_document`, taken to `handling` (received, assigned,
        in_process, done) by its leader and specialist."""
        from chinhquyenso.documents.models import Recipient

        recipient = (
            Recipient.objects.filter(document=outgoing_document, agency=agency)
            .select_related("incoming_document")
            .first()
        )
        if recipient is None or recipient.incoming_document is None:
            raise DomainError(f"Văn bản không đến được {agency.name}.", "documents.json")
        self.take(recipient.incoming_document, key, handling, deadline_days=10)

    def take(self, incoming, key: str, handling: str, *, deadline_days: int, at: dt.datetime | None = None) -> None:
        from chinhquyenso.documents.services import incoming as incoming_services

        if handling == "received":
            return
        leader, specialist = self.leader(key), self.drafter(key)
        moment = at or timezone.now()
        [assignment] = incoming_services.assign(
            incoming,
            leader,
            assignees=[incoming_services.Assignee(user_id=specialist.pk, role="lead")],
            instructions="Giao chuyên viên chủ trì tham mưu, báo cáo kết quả đúng hạn.",
            deadline_days=deadline_days,
            at=moment,
        )
        if handling in ("assigned", "overdue"):
            return
        later = moment + dt.timedelta(minutes=30) if at else None
        incoming_services.start(assignment, specialist, note="Đang rà soát, tổng hợp số liệu.", at=later)
        if handling == "in_process":
            return
        incoming_services.complete(
            assignment, specialist, result_note="Đã triển khai thực hiện và báo cáo lãnh đạo.", at=later
        )

    def paper_incoming(self, spec: dict) -> None:
        """A paper document the clerk registers, dated `days_ago` working days back, assigned then
        with a deadline that has passed: it is overdue now."""
        from chinhquyenso.documents.models import DocumentType
        from chinhquyenso.documents.services import incoming as incoming_services

        key = spec["to"]
        agency = self.agency(key)
        today = local_date(timezone.now())
        days_ago = int(spec.get("days_ago", 10))
        calendar = calendar_for(today - dt.timedelta(days=3 * days_ago + 30), today, days_after=30)
        day = today
        for _ in range(days_ago):
            day = _working_day_before(calendar, day)
        at = dt.datetime.combine(day, dt.time(8, 30), tzinfo=LOCAL_TZ)
        document_type = DocumentType.objects.get(code=spec["type"])
        data = self.render(
            issuer=Agency(name=spec["sender_name"]),
            document_type=document_type,
            excerpt=spec["excerpt"],
            body=["Văn bản giấy do văn thư quét và vào sổ văn bản đến."],
            recipients=[agency.name],
            signer=User(full_name=""),
            signer_title="",
        )
        document = incoming_services.register_incoming(
            self.clerk(key),
            agency=agency,
            document_type=document_type,
            excerpt=spec["excerpt"],
            sender_name=spec["sender_name"],
            sender_code=spec.get("sender_code", ""),
            symbol=spec.get("symbol", ""),
            issued_on=day,
            received_by=spec.get("received_by", "paper"),
            arrival_date=day,
            file=self.stored_pdf(data, "van-ban-den-quet.pdf"),
            at=at,
        )
        self.take(document, key, spec.get("handling", "received"), deadline_days=spec.get("deadline_days", 5), at=at)

    # ------------------------------------------------------------ signed e-results

    def signed_results(self) -> int:
        """A birth registration for each demo citizen who can sign in, taken through the dossier
        services at the commune's counter: the leader attaches the result (signed with the commune's
        key, a QR code to its authenticity page), it is returned online into the citizen's e-data store."""
        from chinhquyenso.dossiers import services as dossiers
        from chinhquyenso.procedures.models import Procedure

        procedure = Procedure.objects.filter(code=RESULT_PROCEDURE, is_active=True).first()
        if procedure is None:
            return 0
        commune = self.agency(RESULT_AGENCY)
        counter = self.officer(RESULT_AGENCY, services.ROLE_SUFFIX[Role.COUNTER_OFFICER])
        specialist, leader = self.drafter(RESULT_AGENCY), self.leader(RESULT_AGENCY)
        citizens = User.objects.filter(kind=User.Kind.CITIZEN).exclude(password__startswith="!").order_by("id")
        made = 0
        for citizen in citizens[:2]:
            dossier = dossiers.submit(
                actor=counter,
                procedure_code=procedure.code,
                channel="counter",
                applicant={
                    "identity_number": citizen.identity_number,
                    "full_name": citizen.full_name,
                    "phone": citizen.phone,
                    "address": commune.name.removeprefix("UBND "),
                },
                agency_code=commune.code,
                components=[{"order": c.order, "on_paper": True} for c in procedure.components.all()],
                verified=True,
            )
            dossiers.accept(dossier, actor=counter, assignee=specialist)
            dossiers.forward(dossier, actor=specialist, note="Hồ sơ hợp lệ, trình lãnh đạo.")
            data = self.render(
                issuer=commune,
                document_type=_Titled(procedure.result_name or procedure.name),
                excerpt="",
                body=[
                    f"Kết quả giải quyết hồ sơ {dossier.code}: {procedure.name}.",
                    f"Người yêu cầu: {citizen.full_name}.",
                ],
                recipients=[citizen.full_name],
                signer=leader,
                signer_title="CHỦ TỊCH",
            )
            dossiers.attach_result(
                dossier,
                actor=leader,
                file=self.stored_pdf(data, "giay-khai-sinh.pdf"),
                number=f"{dossier.code[-4:]}/{local_date(timezone.now()):%Y}",
            )
            dossiers.forward(dossier, actor=leader)
            dossiers.return_result(dossier, actor=counter, delivery="online")
            made += 1
        self.stats.results = made
        return made


@dataclass
class _Titled:
    """A stand-in document type for a result's page: its name, no abbreviation in a symbol."""

    name: str
    abbreviation: str = "KQ"


def _abbreviation(agency: Agency) -> str:
    from chinhquyenso.documents.services.numbering import default_abbreviation

    return default_abbreviation(agency)


def _working_day_before(calendar, day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


@dataclass
class SigningStats:
    agency_keys: int
    personal_keys: int
    clerks: int
    pki_directory: str


def build_documents(*, seed: int, log=None) -> tuple[SigningStats, DocumentStats]:
    """After the province is built, outside any transaction (signing calls the time-stamp service):
    the demo PKI (generated once into the data directory), a seal key for every current agency and
    personal keys for the exchanging agencies' leaders, their clerks, then the documents of
    documents.json and the signed e-results, with the PKI services process running meanwhile."""
    from chinhquyenso.demo import signing as demo_signing
    from chinhquyenso.documents.reference import load_reference_data

    log = log or (lambda message: None)
    load_reference_data()  # the document types and default approval flow, where a database lost them
    admin = User.objects.get(username=services.ADMIN_USERNAME)
    pki = demo_signing.ensure_demo_pki()
    log(demo_signing.PRODUCTION_WARNING.format(path=pki.directory))
    flow = DocumentFlow(actor=admin, seed=seed)
    # Every demo account shares the demo password's one hash (services.build_accounts).
    clerks = flow.create_clerks(admin.password)
    signing = SigningStats(
        agency_keys=demo_signing.create_agency_keys(pki, actor=admin),
        personal_keys=demo_signing.create_personal_keys(
            pki, actor=admin, users=demo_signing.leaders_of(flow.data["agencies"])
        ),
        clerks=len(clerks),
        pki_directory=str(pki.directory),
    )
    with demo_signing.running_pki_services(pki) as url, demo_signing.configured(pki, url), _quiet_fonts():
        stats = flow.run()
        flow.signed_results()
    return signing, stats


@contextlib.contextmanager
def _quiet_fonts():
    """WeasyPrint's and pyHanko's font subsetting (fontTools) warn of every table they drop: noise on
    the demo's console, nothing an operator could act on."""
    fonts = logging.getLogger("fontTools")
    level = fonts.level
    fonts.setLevel(logging.ERROR)
    try:
        yield
    finally:
        fonts.setLevel(level)

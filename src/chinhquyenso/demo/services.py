"""Building the demo province from the data files in demo/data/.

Everything goes through the owning apps' services (org.create_agency,
accounts.create_officer, procedures.save_procedure, the reorganization
services) so the demo is validated and audited like real data; only the
high-volume parts (procedure assignments to 156 communes, synthetic citizens,
dossiers) are bulk-written, each bulk write audited once.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole, Membership, Role, User
from chinhquyenso.core import audit
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import CalendarDay
from chinhquyenso.core.text import nfc
from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.org.selectors import current_successor
from chinhquyenso.procedures import services as procedures
from chinhquyenso.procedures.models import Procedure, ProcedureAgency, ProcedureGroup, ProcedureGroupMember

DATA_DIR = Path(__file__).parent / "data"
DEMO_PASSWORD = "AnGiang@2025"
# Username suffix of each officer role (ASCII, Vietnamese words).
ROLE_SUFFIX = {Role.COUNTER_OFFICER: "motcua", Role.SPECIALIST: "chuyenvien", Role.LEADER: "lanhdao"}
ADMIN_USERNAME, AUDITOR_USERNAME, IOC_USERNAME = "quantri", "kiemtra", "dieuphoi"
# The catalog files, in load order: the demo province's procedures (with demo_weight for the
# dossier generator), then the extended national list (demo_weight 0: searchable, no dossiers).
CATALOG_FILES = ("procedures.json", "procedures_national.json")
# Keys in procedures.json that are demo metadata, not catalog fields.
DEMO_ONLY_KEYS = ("department", "demo_weight", "code_verified")


@cache
def load(name: str):
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def ensure_empty() -> None:
    if Agency.objects.exists() or Procedure.objects.exists() or User.objects.filter(kind=User.Kind.OFFICER).exists():
        raise DomainError("Cơ sở dữ liệu đã có dữ liệu; chỉ dựng tỉnh mẫu trên cơ sở dữ liệu trống.", "database")


# ---------------------------------------------------------------- names


class NameMaker:
    """Synthetic Vietnamese names from names.json; deterministic for an rng."""

    def __init__(self, rng: random.Random):
        self.rng, self.data = rng, load("names.json")

    def person(self) -> tuple[str, bool]:
        d, female = self.data, self.rng.random() < 0.5
        middle = d["female_middle"] if female else d["male_middle"]
        given = d["female_given"] if female else d["male_given"]
        return f"{self.rng.choice(d['surnames'])} {self.rng.choice(middle)} {self.rng.choice(given)}", female

    def hamlet(self) -> str:
        return self.rng.choice(self.data["hamlets"])


def citizen_id(index: int, female: bool, birth_year: int) -> str:
    """12-digit CCCD: 089 (An Giang) + century/sex digit + 2-digit birth year + 6-digit serial."""
    century_digit = (0 if birth_year < 2000 else 2) + (1 if female else 0)
    return f"089{century_digit}{birth_year % 100:02d}{index % 1_000_000:06d}"


# ---------------------------------------------------------------- calendar


@transaction.atomic
def build_calendar(*, actor) -> int:
    rows = []
    for i, item in enumerate(load("calendar.json")["days"]):
        try:
            day = dt.date.fromisoformat(item["date"])
        except (KeyError, ValueError):
            raise DomainError("Ngày không hợp lệ trong lịch làm việc mẫu.", f"calendar.days[{i}].date") from None
        if item.get("kind") not in CalendarDay.Kind.values:
            raise DomainError("Loại ngày phải là working hoặc day_off.", f"calendar.days[{i}].kind")
        rows.append(CalendarDay(date=day, kind=item["kind"], note=nfc(item.get("note"))[:200]))
    CalendarDay.objects.bulk_create(rows)
    audit.record(
        actor=actor,
        action="calendar.import",
        object_type="core.CalendarDay",
        object_id="demo",
        after={"days": [r.date for r in rows]},
    )
    return len(rows)


# ---------------------------------------------------------------- agencies and accounts


@transaction.atomic
def build_agencies(*, actor) -> list[Agency]:
    """An Giang before 01/7/2025 (UBND tỉnh, 21 sở ngành, the service centre,
    11 districts, 156 communes) and a few Kiên Giang agencies for the merger."""
    data = load("agencies.json")
    created = []

    def make(spec, kind, parent):
        agency = org.create_agency(
            actor=actor,
            name=spec["name"],
            kind=kind,
            parent=parent,
            electronic_code=spec["electronic_code"],
            code=spec["key"],
        )
        created.append(agency)
        return agency

    for block in [data, *data.get("neighbours", [])]:
        province = make(block["province"], AgencyKind.PROVINCE_COMMITTEE, None)
        for dept in block["departments"]:
            make(dept, dept.get("kind", AgencyKind.DEPARTMENT), province)
        if block.get("service_center"):
            make(block["service_center"], AgencyKind.SERVICE_CENTER, province)
        for district in block.get("districts", []):
            parent = make(district, AgencyKind.DISTRICT_COMMITTEE, province)
            for commune in district["communes"]:
                make(
                    {**commune, "name": f"UBND {commune['type']} {commune['name']}"},
                    AgencyKind.COMMUNE_COMMITTEE,
                    parent,
                )
    return created


def create_admin(password_hash: str) -> User:
    admin = accounts.create_officer(
        actor=None,
        username=ADMIN_USERNAME,
        password=None,
        full_name="Quản trị hệ thống tỉnh",
        global_role=GlobalRole.PROVINCE_ADMIN,
    )
    User.objects.filter(pk=admin.pk).update(password=password_hash)
    return admin


@transaction.atomic
def build_accounts(*, actor, agencies: list[Agency], password_hash: str, rng: random.Random) -> None:
    """One counter officer, specialist and leader per agency, an auditor and a
    few citizens, all sharing one demo password. The password is hashed once
    by the caller: argon2 for every account would take minutes."""
    names = NameMaker(rng)
    ids = []
    auditor = accounts.create_officer(
        actor=actor,
        username=AUDITOR_USERNAME,
        password=None,
        full_name="Cán bộ kiểm tra, giám sát",
        global_role=GlobalRole.AUDITOR,
    )
    ids.append(auditor.pk)
    for agency in agencies:
        for role, suffix in ROLE_SUFFIX.items():
            user = accounts.create_officer(
                actor=actor,
                username=f"{agency.code}.{suffix}",
                password=None,
                full_name=names.person()[0],
                memberships=[(agency, role)],
            )
            ids.append(user.pk)
    for index in range(3):
        full_name, female = names.person()
        citizen = accounts.create_citizen(
            actor=actor,
            identity_number=citizen_id(990_001 + index, female, 1985 + index * 7),
            full_name=full_name,
            phone=f"09{rng.randrange(10**7, 10**8)}",
        )
        ids.append(citizen.pk)
    User.objects.filter(pk__in=ids).update(password=password_hash)


def hash_demo_password() -> str:
    return make_password(DEMO_PASSWORD)


# ---------------------------------------------------------------- catalog


def _targets(entry: dict, by_kind: dict[str, list[Agency]], by_code: dict[str, Agency], where: str) -> list[Agency]:
    targets = []
    for level in entry["levels"]:
        if level == "commune":
            targets += by_kind[AgencyKind.COMMUNE_COMMITTEE]
        elif level == "district":
            targets += by_kind[AgencyKind.DISTRICT_COMMITTEE]
        else:
            department = by_code.get(entry.get("department", ""))
            if department is None:
                raise DomainError(
                    "Thủ tục cấp tỉnh phải ghi cơ quan giải quyết (department) hợp lệ.", f"{where}.department"
                )
            targets.append(department)
    return targets


@transaction.atomic
def build_catalog(*, actor) -> list[Procedure]:
    """Load procedures.json and procedures_national.json through
    procedures.services.save_procedure, then assign each procedure to every agency of its level
    (province procedures to their department). Assignments are bulk-written: ~35,000 rows."""
    data = load("procedures.json")
    current = list(Agency.objects.current().filter(code__in=_an_giang_codes()).order_by("id"))
    by_code = {a.code: a for a in current}
    by_kind: dict[str, list[Agency]] = {}
    for agency in current:
        by_kind.setdefault(agency.kind, []).append(agency)
    saved, assignments = [], []
    entries = [(name, i, entry) for name in CATALOG_FILES for i, entry in enumerate(load(name)["procedures"])]
    for name, i, entry in entries:
        where = f"{name}: procedures[{i}]"
        targets = _targets(entry, by_kind, by_code, where)
        payload = {k: v for k, v in entry.items() if k not in DEMO_ONLY_KEYS}
        procedure = procedures.save_procedure(actor=actor, data=payload, where=where)
        assignments += [ProcedureAgency(procedure=procedure, agency=agency) for agency in targets]
        saved.append(procedure)
    ProcedureAgency.objects.bulk_create(assignments, batch_size=2000)
    audit.record(
        actor=actor,
        action="procedure.assign_bulk",
        object_type="procedures.ProcedureAgency",
        object_id="demo",
        after={"assignments": len(assignments), "procedures": len(saved)},
    )
    by_proc_code = {p.code: p for p in saved}
    for g, group in enumerate(data.get("groups", [])):
        missing = [code for code in group["members"] if code not in by_proc_code]
        if missing:
            raise DomainError(
                f"Nhóm liên thông có thủ tục không có trong danh mục: {', '.join(missing)}.", f"groups[{g}].members"
            )
        row = ProcedureGroup.objects.create(code=group["code"], name=nfc(group["name"]))
        # Liên thông rules per member (dossiers.interconnect): who handles it, what it waits for, what
        # happens to the others when it fails ("rules": {procedure code: {connector, remote_procedure,
        # after, on_failure}}; a member without rules is handled here).
        rules = group.get("rules", {})
        ProcedureGroupMember.objects.bulk_create(
            ProcedureGroupMember(
                group=row,
                procedure=by_proc_code[code],
                order=n,
                connector=rules.get(code, {}).get("connector", ""),
                remote_procedure=rules.get(code, {}).get("remote_procedure", ""),
                after=rules.get(code, {}).get("after", []),
                on_failure=rules.get(code, {}).get("on_failure", "notify"),
            )
            for n, code in enumerate(group["members"], start=1)
        )
        audit.record(actor=actor, action="procedure_group.create", obj=row, after={"members": group["members"]})
    procedures.load_forms(actor=actor)  # tờ khai điện tử of the most-submitted procedures (procedures/data/forms)
    return saved


def _an_giang_codes() -> list[str]:
    data = load("agencies.json")
    codes = [data["province"]["key"], data["service_center"]["key"], *(d["key"] for d in data["departments"])]
    for district in data["districts"]:
        codes += [district["key"], *(c["key"] for c in district["communes"])]
    return codes


def demo_weights() -> dict[str, float]:
    return {
        entry["code"]: float(entry.get("demo_weight", 1))
        for name in CATALOG_FILES
        for entry in load(name)["procedures"]
    }


# ---------------------------------------------------------------- reorganizations


def reorganization_dates(until: dt.date) -> list[dt.date]:
    """Effective dates of the 2025 reorganizations that have happened by `until`."""
    dates = {dt.date.fromisoformat(item["date"]) for item in load("reorganizations.json")["steps"]}
    return sorted(d for d in dates if d <= until)


def _agency(key: str, where: str) -> Agency:
    """The version valid now of the agency first created with code `key`."""
    first = Agency.objects.filter(code=key).first()
    agency = current_successor(first) if first else None
    if agency is None:
        raise DomainError(f"Không tìm thấy cơ quan “{key}” còn hiệu lực.", where)
    return agency


@transaction.atomic
def apply_reorganizations(*, actor, on: dt.date) -> list[str]:
    """Apply the steps of reorganizations.json effective on `on`, in file
    order, through org.services / procedures.services; returns a log line per step."""
    log = []
    for i, step in enumerate(load("reorganizations.json")["steps"]):
        if dt.date.fromisoformat(step["date"]) != on:
            continue
        where = f"reorganizations.steps[{i}]"
        action, basis = step["action"], step.get("legal_basis", "")
        if action == "transfer_procedure":
            procedure = Procedure.objects.filter(code=step["procedure"]).first()
            if procedure is None:
                raise DomainError(f"Không tìm thấy thủ tục {step['procedure']}.", f"{where}.procedure")
            procedures.transfer_procedure(
                actor=actor,
                procedure=procedure,
                source=_agency(step["source"], where),
                target=_agency(step["target"], where),
                effective_date=on,
                legal_basis=basis,
            )
            log.append(f"Chuyển thẩm quyền thủ tục {procedure.code}: {step['source']} → {step['target']}")
        elif action == "merge":
            sources = [_agency(key, where) for key in step["sources"]]
            parent = _agency(step["parent"], where) if step.get("parent") else sources[0].parent
            new = org.merge(
                actor=actor,
                sources=sources,
                name=step["name"],
                kind=step.get("kind", sources[0].kind),
                parent=parent,
                effective_date=on,
                legal_basis=basis,
                electronic_code=step.get("electronic_code", sources[0].electronic_code),
            )
            log.append(f"Hợp nhất {len(sources)} cơ quan thành “{new.name}”")
        elif action == "rename":
            source = _agency(step["source"], where)
            new = org.rename(actor=actor, agency=source, new_name=step["name"], effective_date=on, legal_basis=basis)
            log.append(f"Đổi tên “{source.name}” thành “{new.name}”")
        elif action == "dissolve":
            source, successor = _agency(step["source"], where), _agency(step["successor"], where)
            org.dissolve(actor=actor, agency=source, successor=successor, effective_date=on, legal_basis=basis)
            log.append(f"Giải thể “{source.name}”, chuyển về “{successor.name}”")
        elif action == "dissolve_kind":
            successor = _agency(step["successor"], where)
            targets = list(Agency.objects.current().filter(kind=step["kind"]).order_by("id"))
            for agency in targets:
                children = list(agency.children.current().order_by("id"))
                # Procedures the successor did not handle before: after the
                # dissolution they go down to the former children, not up.
                handed_down = set(
                    ProcedureAgency.objects.filter(agency=agency, valid_to__isnull=True).values_list(
                        "procedure_id", flat=True
                    )
                )
                handed_down -= set(
                    ProcedureAgency.objects.filter(agency=successor, valid_to__isnull=True).values_list(
                        "procedure_id", flat=True
                    )
                )
                org.dissolve(actor=actor, agency=agency, successor=successor, effective_date=on, legal_basis=basis)
                if step.get("procedures_to") == "children":
                    procedures.hand_over_assignments(
                        source_id=successor.pk,
                        receivers=[current_successor(c) for c in children],
                        effective_date=on,
                        procedure_ids=list(handed_down),
                    )
            log.append(f"Kết thúc hoạt động {len(targets)} cơ quan loại {step['kind']}")
        elif action == "official_communes":
            from chinhquyenso.demo import communes

            log += communes.reorganize_former_communes(actor=actor, on=on, legal_basis=basis)
        elif action == "new_official_communes":
            from chinhquyenso.demo import communes

            log += communes.create_new_units(actor=actor, on=on, province_key=step["parent"])
        else:
            raise DomainError(f"Loại sắp xếp “{action}” không được hỗ trợ.", f"{where}.action")
    return log


def officer_user_ids() -> dict[int, dict[str, int]]:
    """agency id → role → one officer's user id, for actors of generated events."""
    result: dict[int, dict[str, int]] = {}
    for agency_id, role, user_id in Membership.objects.order_by("id").values_list("agency_id", "role", "user_id"):
        result.setdefault(agency_id, {}).setdefault(role, user_id)
    return result


# The page families the README and docs name, each with the words printed for it.
PAGES = {
    "/ca-nhan/": "hồ sơ của tôi",
    "/can-bo/": "một cửa, xử lý hồ sơ",
    "/can-bo/phan-anh/": "phản ánh, kiến nghị",
    "/can-bo/van-ban/": "văn bản đi, đến",
    "/can-bo/ho-tich/": "sổ hộ tịch",
    "/can-bo/sau-benh/giam-sat/": "giám sát sâu bệnh: mật độ, bản đồ, cảnh báo",
    "/can-bo/sau-benh/nhan-dang/": "xác nhận ảnh nhận dạng sâu bệnh (chuyên gia)",
    "/dieu-hanh/": "điều hành (IOC)",
    "/quan-tri/": "quản trị tỉnh",
    "/xac-thuc/": "kiểm tra chữ ký số của tệp PDF (công khai)",
}
ROLE_WORDS = {
    Role.COUNTER_OFFICER: "một cửa",
    Role.SPECIALIST: "thụ lý",
    Role.LEADER: "lãnh đạo",
    Role.CLERK: "văn thư",
}
# Văn thư (demo.documents): only in the agencies that exchange the demo's documents (documents.json).
CLERK_SUFFIX = "vanthu"
OFFICER_PAGES = ["/can-bo/", "/can-bo/phan-anh/"]
# What the demo promises each kind of account opens; tests/browser/test_demo_accounts.py signs in
# with every printed account and opens every page printed beside it, so a gate that disagrees fails.
GLOBAL_ACCOUNTS = [
    (ADMIN_USERNAME, "quản trị toàn tỉnh", ["/quan-tri/", *OFFICER_PAGES, "/can-bo/ho-tich/", "/dieu-hanh/"]),
    (AUDITOR_USERNAME, "kiểm tra, giám sát (chỉ đọc)", [*OFFICER_PAGES, "/can-bo/ho-tich/", "/dieu-hanh/"]),
    (IOC_USERNAME, "điều phối viên IOC", ["/can-bo/phan-anh/", "/dieu-hanh/"]),
]
PAGES_MARK = " → "


@dataclass(frozen=True)
class DemoAccount:
    username: str
    who: str
    pages: list[str]


def officer_pages(role: str, kind: str) -> list[str]:
    """Pages an agency's officer in `role` opens: every officer the back office, feedback and the
    documents (drafting, approving, their agency's registers); leaders the dashboard of their
    agency; a commune's officers its civil-status registers (civil_records keeps registers per
    commune; Sở Tư pháp's province-wide view is the province administrator's). A clerk (văn thư)
    works on documents: the back office and the documents only."""
    if role == Role.CLERK:
        return ["/can-bo/", "/can-bo/van-ban/"]
    pages = [*OFFICER_PAGES, "/can-bo/van-ban/"]
    if kind == AgencyKind.COMMUNE_COMMITTEE:
        pages.append("/can-bo/ho-tich/")
        # The commune's pest alerts and densities (pests: commune officers see their communes).
        pages.append("/can-bo/sau-benh/giam-sat/")
    if role == Role.LEADER:
        pages.append("/dieu-hanh/")
    return pages


def demo_accounts() -> list[DemoAccount]:
    """The demo accounts that exist in the database, each with the pages it opens."""
    existing = set(User.objects.filter(username__in=[a[0] for a in GLOBAL_ACCOUNTS]).values_list("username", flat=True))
    result = [DemoAccount(u, who, pages) for u, who, pages in GLOBAL_ACCOUNTS if u in existing]
    result += pest_accounts()
    # Officers of a few agencies named in agencies.json; the rest follow the same pattern.
    shown = [
        f"{key}.{suffix}" for key in load("agencies.json")["demo_accounts_shown"] for suffix in ROLE_SUFFIX.values()
    ]
    shown += [f"{key}.{CLERK_SUFFIX}" for key in load("documents.json")["agencies"]]
    for username, memberships in current_memberships_of(shown).items():
        if memberships:
            pages = {page for role, _, kind in memberships for page in officer_pages(role, kind)}
            roles = ", ".join(dict.fromkeys(ROLE_WORDS.get(role, role) for role, _, _ in memberships))
            names = ", ".join(dict.fromkeys(name for _, name, _ in memberships))
            result.append(DemoAccount(username, f"{roles} — {names}", sorted(pages, key=list(PAGES).index)))
    # Synthetic applicants have unusable passwords ("!…"); the demo citizens can sign in.
    citizens = User.objects.filter(kind=User.Kind.CITIZEN).exclude(password__startswith="!").order_by("id")
    for username in citizens.values_list("username", flat=True):
        result.append(DemoAccount(username, "công dân (đăng nhập bằng số định danh)", ["/ca-nhan/"]))
    return result


def pest_accounts() -> list[DemoAccount]:
    """The plant-protection officer and the expert demo.pests creates (demo/data/pests.json), when it
    did: their agency's pages and the pest surveillance pages their grants open."""
    spec = load("pests.json")["accounts"]
    found = {a["username"]: a for a in spec.values()}
    rows = current_memberships_of([u for u in found if User.objects.filter(username=u).exists()])
    out = []
    for username, memberships in rows.items():
        if not memberships:
            continue
        pages = {page for role, _, kind in memberships for page in officer_pages(role, kind)}
        pages.add("/can-bo/sau-benh/giam-sat/")
        if "confirm_identification" in found[username]["grants"]:
            pages.add("/can-bo/sau-benh/nhan-dang/")
        names = ", ".join(dict.fromkeys(name for _, name, _ in memberships))
        out.append(DemoAccount(username, f"{found[username]['who']} — {names}", sorted(pages, key=list(PAGES).index)))
    return out


def account_lines() -> list[str]:
    """The demo accounts, as `cqs seed-demo` and `cqs demo` print them: one line per
    account, "<tên đăng nhập>  <vai trò, cơ quan> → <trang>, <trang>"."""
    lines = [f"Tài khoản trình diễn (mật khẩu chung: {DEMO_PASSWORD}); sau dấu → là các trang tài khoản mở được:"]
    accounts_found = demo_accounts()
    for account in accounts_found:
        lines.append(f"  {account.username:<32} {account.who}{PAGES_MARK}{', '.join(account.pages)}")
    officers = User.objects.filter(kind=User.Kind.OFFICER, memberships__isnull=False).distinct().count()
    lines.append(
        "  … mỗi cơ quan có <mã cơ quan>.motcua (một cửa), .chuyenvien (thụ lý), .lanhdao (phê duyệt); "
        f"tổng {officers} tài khoản cán bộ."
    )
    if any(account.username.endswith(f".{CLERK_SUFFIX}") for account in accounts_found):
        lines.append(
            "  … các cơ quan trao đổi văn bản mẫu có thêm <mã cơ quan>.vanthu (văn thư: vào sổ, cấp số, ban hành); "
            "lãnh đạo các cơ quan này có chữ ký số cá nhân, mọi cơ quan có chữ ký số của cơ quan (PKI thử nghiệm)."
        )
    lines.append("Các trang: " + "; ".join(f"{path} {words}" for path, words in PAGES.items()) + ".")
    return lines


def parse_account_lines(text: str) -> list[DemoAccount]:
    """The accounts and pages in text printed by account_lines() (for the browser journey)."""
    accounts_found = []
    for line in text.splitlines():
        head, mark, pages = line.strip().rpartition(PAGES_MARK)
        paths = pages.split(", ")
        if line.startswith("  ") and mark and all(path in PAGES for path in paths):
            username, who = head.split(None, 1)
            accounts_found.append(DemoAccount(username, who, paths))
    return accounts_found


def current_memberships_of(usernames: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """username → (role, agency name, agency kind) of the agencies the account works in now
    (after reorganizations)."""
    result: dict[str, list[tuple[str, str, str]]] = {u: [] for u in usernames}
    rows = (
        Membership.objects.filter(user__username__in=usernames, agency__valid_to__isnull=True)
        .order_by("agency__name")
        .values_list("user__username", "role", "agency__name", "agency__kind")
    )
    for username, *membership in rows:
        if tuple(membership) not in result[username]:
            result[username].append(tuple(membership))
    return result


def build_reporting(*, actor, until: dt.date, rng: random.Random, months: int = 12) -> int:
    """The indicator registry, report templates and LRIS forms, plus a year of
    reported e-government figures (as if approved through LRIS) so the
    e-government assessment has data: a few agencies miss a criterion."""
    from chinhquyenso.indicators.models import EGovCriterion, Indicator
    from chinhquyenso.indicators.periods import month
    from chinhquyenso.indicators.services import load_registry, record_reported_value
    from chinhquyenso.lris.services import load_forms
    from chinhquyenso.reports.services import load_templates

    load_registry(actor=actor)
    load_forms(actor=actor)
    load_templates(actor=actor)
    kinds = {kind for criterion in EGovCriterion.objects.all() for kind in criterion.agency_kinds}
    agencies = list(Agency.objects.current().filter(kind__in=kinds).order_by("code"))
    certificate = Indicator.objects.get(code="has_signature_certificate")
    exchange = Indicator.objects.get(code="doc_exchange_electronic_rate")
    lagging = set(rng.sample([a.pk for a in agencies], k=max(1, len(agencies) // 6)))
    written = 0
    year, month_ = until.year, until.month
    for _ in range(months):
        period = month(year, month_)
        for agency in agencies:
            sent = rng.randrange(120, 900)
            share = rng.uniform(0.80, 0.89) if agency.pk in lagging else rng.uniform(0.91, 0.995)
            record_reported_value(
                indicator=exchange,
                agency=agency,
                period_start=period.start,
                period_end=period.end,
                numerator=round(sent * share),
                denominator=sent,
                source="Dữ liệu mẫu",
                actor=actor,
            )
            record_reported_value(
                indicator=certificate,
                agency=agency,
                period_start=period.start,
                period_end=period.end,
                value=0 if agency.pk in lagging and rng.random() < 0.3 else 1,
                source="Dữ liệu mẫu",
                actor=actor,
            )
            written += 2
        year, month_ = (year, month_ - 1) if month_ > 1 else (year - 1, 12)
    return written

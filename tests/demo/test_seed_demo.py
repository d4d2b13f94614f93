"""`cqs seed-demo`: the demo province as the seeds describe it.

The province is built once for the module (twice, to prove determinism) inside
a transaction that is rolled back at the end, so other test modules see an
empty database."""

import datetime as dt
import json
import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.test import override_settings

from chinhquyenso.accounts.models import Membership, Role, User
from chinhquyenso.core.calendar import LOCAL_TZ, WorkingCalendar, local_date
from chinhquyenso.core.models import CalendarDay, CodeCounter
from chinhquyenso.demo.generator import digest
from chinhquyenso.demo.services import DATA_DIR
from chinhquyenso.dossiers.models import OPEN_STATUSES, Dossier, Status
from chinhquyenso.dossiers.services import next_code, timeliness_of
from chinhquyenso.org.models import Agency, AgencyKind
from chinhquyenso.procedures.models import Procedure, ProcedureGroup, ServiceLevel
from chinhquyenso.procedures.selectors import handling_agencies

N, SEED, UNTIL = 3000, 2025, dt.date(2025, 12, 31)
JUDICIAL = "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam"
DISTRICTS = {
    "UBND thành phố Long Xuyên",
    "UBND thành phố Châu Đốc",
    "UBND thị xã Tân Châu",
    "UBND thị xã Tịnh Biên",
    "UBND huyện An Phú",
    "UBND huyện Phú Tân",
    "UBND huyện Chợ Mới",
    "UBND huyện Châu Phú",
    "UBND huyện Châu Thành",
    "UBND huyện Thoại Sơn",
    "UBND huyện Tri Tôn",
}


def seed_demo(**options) -> str:
    out = StringIO()
    # The documents and signatures (tests/demo/test_demo_documents.py) sign outside transactions:
    # not inside this module's rolled-back one, where the calibration is what is checked.
    # Nor the open data, the person index or the pests (tests/demo/test_demo_*.py): built twice here, they
    # would only cost time.
    call_command(
        "seed_demo",
        dossiers=N,
        seed=SEED,
        until=UNTIL,
        stdout=out,
        no_documents=True,
        no_opendata=True,
        no_persons=True,
        no_pests=True,
        **options,
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    # The same settings the function-scoped autouse fixture gives each test.
    test_settings = override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("files"), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), test_settings:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            first = transaction.savepoint()
            seed_demo()
            first_digest = digest()
            transaction.savepoint_rollback(first)
            output = seed_demo()
            yield {"output": output, "digests": (first_digest, digest())}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def received_between(start: dt.date, end: dt.date):
    """Dossiers submitted from `start` up to and including `end` (Vietnam dates)."""
    return Dossier.objects.filter(
        submitted_at__gte=dt.datetime.combine(start, dt.time(0), LOCAL_TZ),
        submitted_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), LOCAL_TZ),
    )


def percent(part, whole) -> float:
    return 100 * part.count() / whole.count()


def test_same_seed_gives_the_same_dossiers(demo, db):
    first, second = demo["digests"]
    assert first == second
    assert Dossier.objects.count() == N


def test_q3_2022_reproduces_online_share_and_timeliness(demo, db):
    received = received_between(dt.date(2022, 7, 1), dt.date(2022, 9, 30))
    finished = received.filter(finished_at__isnull=False)
    assert received.count() > 100
    assert abs(percent(received.filter(channel="online"), received) - 41.5) <= 3
    assert percent(finished.filter(timeliness__in=["early", "on_time"]), finished) >= 97


def test_first_nine_months_of_2024_reproduce_digitization(demo, db):
    finished = received_between(dt.date(2024, 1, 1), dt.date(2024, 9, 30)).filter(finished_at__isnull=False)
    assert finished.count() > 300
    assert abs(percent(finished.filter(digitized=True), finished) - 82.56) <= 3
    assert abs(percent(finished.filter(has_electronic_result=True), finished) - 83.19) <= 3


def test_catalog_has_real_procedures_in_many_fields_and_the_interlinked_groups(demo, db):
    assert Procedure.objects.count() >= 100
    assert Procedure.objects.values("field").distinct().count() >= 10
    # The service levels of the province's own list are calibrated to seed 001; the national list loaded
    # beside it for the assistant (procedures_national.json) is not, so the shares are of the former.
    own = [p["code"] for p in json.loads((DATA_DIR / "procedures.json").read_text(encoding="utf-8"))["procedures"]]
    levels = dict(Procedure.objects.filter(code__in=own).values_list("service_level").annotate(n=Count("id")))
    total = sum(levels.values())
    assert 10 <= 100 * levels[ServiceLevel.INFO_ONLY] / total <= 25  # seed 001: 319 of 1916
    assert 40 <= 100 * levels[ServiceLevel.FULL_ONLINE] / total <= 55  # seed 001: 900 of 1916
    assert Procedure.objects.filter(name=JUDICIAL, processing_days__gt=0).exists()
    with_fee = Procedure.objects.exclude(fee=0, charge=0)
    assert with_fee.exists() and not with_fee.exclude(online_discount_percent=50).exists()
    birth = Procedure.objects.get(name="Đăng ký khai sinh")
    assert birth.result_type == "giay-khai-sinh"
    assert birth.steps.filter(role=Role.SPECIALIST).exists() and birth.steps.filter(role=Role.LEADER).exists()
    reusing = Procedure.objects.filter(components__reusable_result_type="giay-khai-sinh").values_list("name", flat=True)
    assert "Đăng ký thường trú" in reusing
    groups = {
        g.code: [m.name for m in g.members.order_by("proceduregroupmember__order")]
        for g in ProcedureGroup.objects.all()
    }
    assert groups["lien-thong-khai-sinh"] == [
        "Đăng ký khai sinh",
        "Đăng ký thường trú",
        "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
    ]
    assert groups["lien-thong-khai-tu"][:2] == ["Đăng ký khai tử", "Xóa đăng ký thường trú"]
    assert "mai táng" in groups["lien-thong-khai-tu"][2]


def test_province_before_the_2025_reorganization(demo, db):
    day = dt.date(2024, 6, 1)
    valid = Agency.objects.valid_on(day)
    ubnd = valid.get(kind=AgencyKind.PROVINCE_COMMITTEE, name="UBND tỉnh An Giang")
    assert ubnd.electronic_code == "000.00.00.H01"
    assert set(valid.filter(kind=AgencyKind.DISTRICT_COMMITTEE).values_list("name", flat=True)) == DISTRICTS
    assert valid.filter(kind=AgencyKind.COMMUNE_COMMITTEE, parent__parent=ubnd).count() == 156
    assert valid.filter(parent=ubnd, kind__in=[AgencyKind.DEPARTMENT, AgencyKind.SPECIAL_UNIT]).count() == 21
    assert valid.filter(parent=ubnd, kind=AgencyKind.SERVICE_CENTER).count() == 1
    codes = list(valid.values_list("electronic_code", flat=True))
    assert all(re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H\d{2}", c) for c in codes)
    assert len(codes) == len(set(codes))


def test_every_dossier_was_received_by_an_agency_valid_on_its_submission_date(demo, db):
    rows = Dossier.objects.values_list("submitted_at", "receiving_agency__valid_from", "receiving_agency__valid_to")
    invalid = [r for r in rows if not (r[1] <= local_date(r[0]) and (r[2] is None or local_date(r[0]) < r[2]))]
    assert invalid == []
    assert (
        Dossier.objects.filter(
            submitted_at__gte=dt.datetime(2025, 7, 1, tzinfo=LOCAL_TZ),
            receiving_agency__kind=AgencyKind.DISTRICT_COMMITTEE,
        ).count()
        == 0
    )
    assert Dossier.objects.filter(
        submitted_at__lt=dt.datetime(2025, 7, 1, tzinfo=LOCAL_TZ), receiving_agency__kind=AgencyKind.DISTRICT_COMMITTEE
    ).exists()


def test_judicial_record_moves_from_justice_department_to_police_on_1_march_2025(demo, db):
    procedure = Procedure.objects.get(name=JUDICIAL)
    assert [a.name for a in handling_agencies(procedure, dt.date(2025, 2, 28))] == ["Sở Tư pháp"]
    assert [a.name for a in handling_agencies(procedure, dt.date(2025, 3, 1))] == ["Công an tỉnh"]
    assert [a.name for a in handling_agencies(procedure, dt.date(2025, 12, 1))] == ["Công an tỉnh"]
    march = dt.datetime(2025, 3, 1, tzinfo=LOCAL_TZ)
    dossiers = Dossier.objects.filter(procedure=procedure)
    assert set(dossiers.filter(submitted_at__lt=march).values_list("receiving_agency__name", flat=True)) == {
        "Sở Tư pháp"
    }
    assert set(dossiers.filter(submitted_at__gte=march).values_list("receiving_agency__name", flat=True)) == {
        "Công an tỉnh"
    }


def test_two_tier_government_from_1_july_2025(demo, db):
    day = dt.date(2025, 7, 1)
    valid = Agency.objects.valid_on(day)
    assert not valid.filter(kind=AgencyKind.DISTRICT_COMMITTEE).exists()
    province = valid.get(kind=AgencyKind.PROVINCE_COMMITTEE)
    assert province.name == "UBND tỉnh An Giang" and province.valid_from == day
    assert not valid.filter(name="UBND tỉnh Kiên Giang").exists()
    communes = valid.filter(kind=AgencyKind.COMMUNE_COMMITTEE)
    assert 100 < communes.count() < 156 and not communes.exclude(parent=province).exists()
    assert communes.filter(name="UBND phường Long Xuyên").exists()
    # District procedures went down to the communes; every current agency is staffed.
    assert (
        handling_agencies(Procedure.objects.get(name="Đăng ký thành lập hộ kinh doanh"), day).count()
        == communes.count()
    )
    for agency in Agency.objects.current():
        roles = set(Membership.objects.filter(agency=agency).values_list("role", flat=True))
        assert {Role.COUNTER_OFFICER, Role.SPECIALIST, Role.LEADER} <= roles, agency.name


def test_demo_accounts_are_printed_and_log_in_with_the_shared_password(demo, db):
    output = demo["output"]
    assert "AnGiang@2025" in output and "quantri" in output and "ubnd-xa-my-hoa-hung.motcua" in output
    assert authenticate(username="quantri", password="AnGiang@2025").global_role == "province_admin"
    assert authenticate(username="ubnd-xa-my-hoa-hung.motcua", password="AnGiang@2025") is not None
    assert User.objects.filter(username="kiemtra", global_role="auditor").exists()
    citizens = User.objects.filter(kind=User.Kind.CITIZEN)
    assert citizens.count() > 100
    assert all(re.fullmatch(r"089\d{9}", i) for i in citizens.values_list("identity_number", flat=True))


def test_dossier_lives_are_consistent_and_recent_ones_are_open(demo, db):
    now = dt.datetime.combine(UNTIL + dt.timedelta(days=1), dt.time(0), LOCAL_TZ)
    open_dossiers = Dossier.objects.filter(status__in=OPEN_STATUSES)
    assert open_dossiers.exists()
    assert not open_dossiers.filter(submitted_at__lt=now - dt.timedelta(days=60)).exists()
    assert Dossier.objects.filter(status=Status.RETURNED).count() > 0.9 * N
    for d in Dossier.objects.filter(status=Status.RETURNED).select_related("procedure").order_by("code")[:500]:
        assert d.submitted_at <= d.accepted_at <= d.finished_at <= d.returned_at < now
        assert d.timeliness == timeliness_of(d)
        assert d.fee_paid == d.fee_due == d.procedure.amount_due(online=d.channel == "online")
        assert d.events.filter(action="return_result").count() == 1
        assert not d.digitized or d.has_electronic_result


def test_dossier_codes_follow_next_code_and_counters_continue(demo, db):
    last = Dossier.objects.order_by("-submitted_at").select_related("receiving_agency").first()
    prefix, day, number = last.code.rsplit("-", 2)
    assert prefix == last.receiving_agency.electronic_code and day == f"{local_date(last.submitted_at):%y%m%d}"
    counter = CodeCounter.objects.get(key=f"{prefix}-{day}")
    assert counter.value == Dossier.objects.filter(code__startswith=f"{prefix}-{day}-").count() == int(number)
    fresh = next_code(last.receiving_agency, last.submitted_at)
    assert fresh == f"{prefix}-{day}-{int(number) + 1:04d}"
    assert not Dossier.objects.filter(code=fresh).exists()


def test_province_make_up_days_are_working_days(demo, db):
    assert CalendarDay.objects.filter(date=dt.date(2025, 4, 26), kind=CalendarDay.Kind.WORKING).exists()
    assert WorkingCalendar.load().is_working_day(dt.date(2025, 4, 26))  # a Saturday


def test_refuses_a_database_that_is_not_empty(demo, db):
    with pytest.raises(CommandError, match="trống"):
        seed_demo()


def test_demo_keeps_existing_data_and_prints_the_accounts(demo, db):
    out = StringIO()
    dossiers = Dossier.objects.count()
    call_command("demo", no_server=True, stdout=out)
    assert Dossier.objects.count() == dossiers
    assert "CSDL đã có dữ liệu" in out.getvalue()
    assert "AnGiang@2025" in out.getvalue() and "kiemtra" in out.getvalue() and "so-tu-phap.lanhdao" in out.getvalue()

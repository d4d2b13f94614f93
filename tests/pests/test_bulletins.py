"""The weekly bulletin: figures from a hand-made week of trap counts, surveys and an alert; the number
per issuing agency and year; one bulletin per area and week (re-issuing returns it, `replace`
rebuilds it under the same number); the text extracted from the PDF and the DOCX paragraphs; who may
issue and who sees it (pages and files)."""

from __future__ import annotations

import datetime as dt
import io
import threading
import uuid
from decimal import Decimal

import docx
import pytest
from django.db import connection
from django.test import Client
from pypdf import PdfReader

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from chinhquyenso.pests.models import (
    Alert,
    Bulletin,
    Crop,
    Organism,
    Survey,
    SurveyObservation,
    Threshold,
    TrapClass,
    TrapCount,
    TrapMessage,
)
from chinhquyenso.pests.services import bulletins
from tests.conftest import vn

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2025, 3, 3)
SUNDAY = dt.date(2025, 3, 9)
ISSUED = vn(2025, 3, 10, 9)


def week(first: dt.date, nights: int = 7):
    return [first + dt.timedelta(days=n) for n in range(nights)]


def counts(station, night: dt.date, per_class: dict[str, int], tag: str = "csv") -> None:
    start = dt.datetime.combine(night, dt.time(18), tzinfo=LOCAL_TZ)
    message = TrapMessage.objects.create(
        station=station,
        message_id=f"{tag}:{station.code}:{night}",
        window_start=start,
        window_end=start + dt.timedelta(hours=12),
        received_at=start + dt.timedelta(hours=12),
        transport="csv",
        payload_sha256="0" * 64,
    )
    for code, count in per_class.items():
        TrapCount.objects.create(
            message=message, station=station, trap_class=TrapClass.objects.get(code=code), night=night, count=count
        )


def survey(commune, officer, day: dt.date, area_ha, **observations) -> Survey:
    record = Survey.objects.create(
        client_id=uuid.uuid4(),
        commune=commune,
        crop=Crop.objects.get(code="lua"),
        stage="de-nhanh",
        surveyed_on=day,
        area_ha=area_ha,
        officer=officer,
    )
    for code, density in observations.items():
        SurveyObservation.objects.create(
            survey=record, organism=Organism.objects.get(code=code.replace("_", "-")), density_per_m2=density
        )
    return record


@pytest.fixture
def issuer(pest_officer, pest_grant):
    """The district station's officer, who issues bulletins."""
    return pest_grant(pest_officer, "survey_pests", "issue_pest_bulletin")


@pytest.fixture
def dataset(pest_catalog, pest_area, make_trap, issuer):
    """Trap A (xã Kiến An, sown 20/01: làm đòng on Sunday) 800 rầy nâu and 100 bướm sâu cuốn lá nhỏ a
    night, 7 nights; trap B (xã Kiến Thành, sown 10/02: đẻ nhánh) 6.000 rầy nâu a night, 5 nights.
    The week before: A 500 a night. The same week of Đông Xuân 2024: A 100 a night. Two surveys
    (50 ha with 2.500 rầy nâu/m² and 100 nhện sói/m²; 30 ha with 3.500/m²) and an alert in Kiến Thành."""
    a, _ = make_trap("bd-a", pest_area.commune_a, name="Bẫy đèn ấp Bình Phú", sown_on=dt.date(2025, 1, 20))
    b, _ = make_trap("bd-b", pest_area.commune_b, name="Bẫy đèn ấp Mỹ Hòa", sown_on=dt.date(2025, 2, 10))
    for night in week(MONDAY):
        counts(a, night, {"ray-nau": 800, "sau-cuon-la-nho": 100})
    for night in week(MONDAY, 5):
        counts(b, night, {"ray-nau": 6000})
    for night in week(MONDAY - dt.timedelta(days=7)):
        counts(a, night, {"ray-nau": 500})
    for night in week(dt.date(2024, 3, 2)):  # day 122 of Đông Xuân 2024, as 03/3/2025 is of Đông Xuân 2025
        counts(a, night, {"ray-nau": 100})
    survey(pest_area.commune_a, issuer, dt.date(2025, 3, 5), Decimal("50"), ray_nau=2500, nhen_soi=100)
    survey(pest_area.commune_b, issuer, dt.date(2025, 3, 6), Decimal("30"), ray_nau=3500)
    threshold = Threshold.objects.get(organism__code="ray-nau", measure="per_trap_night")
    Alert.objects.create(
        threshold=threshold,
        organism=threshold.organism,
        commune=pest_area.commune_b,
        level=Alert.Level.WARN,
        value=Decimal("6000"),
        period_start=MONDAY,
        period_end=SUNDAY,
        evidence={},
    )
    return {"a": a, "b": b}


def issue(area, actor, **kw):
    return bulletins.issue(
        area=area, week_start=kw.pop("week_start", MONDAY), actor=actor, at=kw.pop("at", ISSUED), **kw
    )


def pdf_text(bulletin: Bulletin) -> str:
    with bulletin.pdf.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def docx_lines(bulletin: Bulletin) -> list[str]:
    with bulletin.docx.file.open("rb") as handle:
        document = docx.Document(io.BytesIO(handle.read()))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return lines


def test_the_figures_of_the_week(dataset, pest_area, issuer):
    bulletin = issue(pest_area.district, issuer, week_start=dt.date(2025, 3, 6))  # any day names its week
    assert (bulletin.week_start, bulletin.week_end) == (MONDAY, SUNDAY)
    c = bulletin.content
    assert c["issuer"]["name"] == "Trạm Trồng trọt và Bảo vệ thực vật huyện Chợ Mới"
    assert (
        c["issuer"]["parent"] == "Chi cục Trồng trọt và Bảo vệ thực vật"
        and bulletin.issuer == pest_area.plant_protection
    )

    ray = next(t for t in c["traps"] if t["trap_class"] == "ray-nau")
    # (7 × 800 + 5 × 6.000) ÷ 12 trap-nights; the week before 3.500 ÷ 7; Đông Xuân 2024 700 ÷ 7.
    assert ray["value"] == "2966.67" and ray["total"] == 35600 and ray["trap_nights"] == 12
    assert ray["previous"] == "500.00" and ray["change_percent"] == "493.3" and ray["trend"] == "up"
    assert ray["seasons"][0] == {"label": "Vụ Đông Xuân 2024", "value": "100.00"}
    assert ray["max_station"] == {
        "station": "bd-b",
        "name": "Bẫy đèn ấp Mỹ Hòa",
        "commune": "xã Kiến Thành",
        "value": "6000.00",
    }
    cuon_la = next(t for t in c["traps"] if t["trap_class"] == "sau-cuon-la-nho")
    assert cuon_la["value"] == "58.33" and cuon_la["previous"] == "0.00"  # 700 ÷ 12; the week before had nights

    survey_ray = next(s for s in c["surveys"] if s["organism"] == "ray-nau")
    assert survey_ray["value"] == "3000.00" and survey_ray["surveys"] == 2 and survey_ray["infested_ha"] == "80.00"
    assert [s["organism"] for s in c["survey_enemies"]] == ["nhen-soi"]
    assert c["natural_enemies"] == {
        "surveys": 2,
        "enemies_per_m2": "50.00",
        "pests_per_m2": "3000.00",
        "ratio": "1 : 60",
    }

    assert c["crops"] == [
        {
            "crop": "Lúa",
            "stations": 2,
            "stages": [{"stage": "Làm đòng", "stations": 1}, {"stage": "Đẻ nhánh", "stations": 1}],
        }
    ] or c["crops"] == [
        {
            "crop": "Lúa",
            "stations": 2,
            "stages": [{"stage": "Đẻ nhánh", "stations": 1}, {"stage": "Làm đòng", "stations": 1}],
        }
    ]
    assert [(a["organism"], a["commune"], a["level"]) for a in c["alerts"]] == [("Rầy nâu", "xã Kiến Thành", "warn")]
    # Forecast: rầy nâu (the alert, and the survey mean at the lowest con/m² warn level 3.000).
    assert [f["organism"] for f in c["forecast"]] == ["ray-nau"]
    assert c["forecast"][0]["why"] == [
        "xã Kiến Thành 6.000 con/bẫy/đêm",
        "toàn địa bàn 3.000 con/m² (ngưỡng cảnh báo 3.000)",
    ]
    assert c["forecast"][0]["advice"].startswith("Gieo sạ tập trung")

    record = AuditRecord.objects.get(action="pests.bulletin.issue")
    assert record.object_id == str(bulletin.pk) and record.actor_id == issuer.pk
    assert record.after["number"] == "01/TB-TTTBVTV" and record.after["content"]["traps"][0]["value"] == "2966.67"


def test_the_pdf_and_the_docx_print_it_in_the_official_layout(dataset, pest_area, issuer):
    bulletin = issue(
        pest_area.district, issuer, symbol="tb-ttbvtv", signer_position="Trưởng trạm", signer_name="Phạm Văn Hòa"
    )
    assert bulletin.number == "01/TB-TTBVTV"
    assert bulletin.pdf.content_type == "application/pdf" and bulletin.docx.original_name.endswith(".docx")
    text = pdf_text(bulletin)
    lines = docx_lines(bulletin)
    joined = " ".join(" ".join(lines).split())
    for expected in (
        "CHI CỤC TRỒNG TRỌT VÀ BẢO VỆ THỰC VẬT",
        "Số: 01/TB-TTBVTV",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Chợ Mới, ngày 10 tháng 3 năm 2025",
        "THÔNG BÁO",
        "Tình hình sinh vật gây hại cây trồng",
        "tuần từ ngày 03/3/2025 đến ngày 09/3/2025",
        "I. TÌNH HÌNH CÂY TRỒNG",
        "Lúa: 2 trạm, điểm theo dõi",
        "II. TÌNH HÌNH SINH VẬT GÂY HẠI",
        "Rầy nâu",
        "2.966,67",
        "6.000 (Bẫy đèn ấp Mỹ Hòa)",
        "500 (+493,3%)",
        "Vụ Đông Xuân 2024",
        "Số đêm bẫy có số liệu trong tuần: 12.",
        "3.000",
        "tỷ lệ thiên địch/sâu hại 1 : 60",
        "Rầy nâu tại xã Kiến Thành: 6.000 con/bẫy/đêm, đến ngưỡng cảnh báo.",
        "III. DỰ BÁO VÀ ĐỀ XUẤT BIỆN PHÁP",
        "Rầy nâu (cần theo dõi, cảnh báo)",
        "Biện pháp: Gieo sạ tập trung",
        "Nơi nhận:",
        "UBND huyện Chợ Mới (báo cáo);",
        "TRƯỞNG TRẠM",
        "Phạm Văn Hòa",
    ):
        assert expected in text, expected
        assert expected in joined, expected
    assert "TRẠM TRỒNG TRỌT VÀ BẢO VỆ THỰC VẬT HUYỆN CHỢ MỚI" in text.replace("\n", " ")
    # The DOCX's paragraphs in order: the trích yếu right under the type, the sections in order.
    titled = [line for line in lines if line.strip()]
    assert (
        titled.index("THÔNG BÁO")
        < titled.index("I. TÌNH HÌNH CÂY TRỒNG")
        < titled.index("III. DỰ BÁO VÀ ĐỀ XUẤT BIỆN PHÁP")
    )


def test_one_bulletin_a_week_and_replace_keeps_its_number(dataset, pest_area, issuer):
    first = issue(pest_area.district, issuer)
    assert issue(pest_area.district, issuer, week_start=SUNDAY).pk == first.pk  # the same week: the same one
    assert Bulletin.objects.count() == 1 and AuditRecord.objects.filter(action="pests.bulletin.issue").count() == 1

    counts(dataset["a"], SUNDAY, {"ray-lung-trang": 120}, tag="late")  # a late message of Sunday night
    replaced = issue(pest_area.district, issuer, replace=True, at=vn(2025, 3, 11, 8))
    assert replaced.pk == first.pk and replaced.number == first.number == "01/TB-TTTBVTV"
    assert any(t["trap_class"] == "ray-lung-trang" for t in replaced.content["traps"])
    assert replaced.content["issued_on"] == "2025-03-11" and replaced.pdf_id != first.pdf_id
    record = AuditRecord.objects.filter(action="pests.bulletin.issue").order_by("-seq").first()
    assert record.after["replace"] is True and record.before["number"] == "01/TB-TTTBVTV"
    assert "Chợ Mới, ngày 11 tháng 3 năm 2025" in pdf_text(replaced)

    # The next week: the next number of the same issuer; the symbol it used last time.
    second = issue(
        pest_area.district, issuer, week_start=MONDAY + dt.timedelta(days=7), symbol="TB-TTBVTV", at=vn(2025, 3, 17, 8)
    )
    assert second.number == "02/TB-TTBVTV"
    third = issue(pest_area.district, issuer, week_start=MONDAY + dt.timedelta(days=14), at=vn(2025, 3, 24, 8))
    assert third.number == "03/TB-TTBVTV"
    # A new year starts again from 1.
    fourth = issue(pest_area.district, issuer, week_start=dt.date(2025, 12, 29), at=vn(2026, 1, 5, 8))
    assert fourth.number == "01/TB-TTBVTV"


def test_the_province_bulletin_of_the_sub_department(dataset, pest_area, admin_user, pest_grant):
    chief = pest_grant(
        accounts.create_officer(
            actor=admin_user,
            username="chicuc.bvtv",
            password="Mat-khau-2025",
            full_name="Võ Thị Hạnh",
            memberships=[(pest_area.subdepartment, Role.LEADER)],
        ),
        "survey_pests",
        "issue_pest_bulletin",
    )
    bulletin = issue(pest_area.province, chief)
    assert bulletin.issuer == pest_area.subdepartment and bulletin.number == "01/TB-CCTTBVTV"
    assert bulletin.content["place"] == "An Giang" and bulletin.content["signer"] == {
        "position": "CHI CỤC TRƯỞNG",
        "name": "Võ Thị Hạnh",
    }
    text = pdf_text(bulletin)
    assert "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG" in text and "An Giang, ngày 10 tháng 3 năm 2025" in text


def test_who_may_issue(dataset, pest_area, commune_officer, admin_user, pest_grant):
    surveyor = pest_grant(
        accounts.create_officer(
            actor=admin_user,
            username="dieutra.cho-moi",
            password="Mat-khau-2025",
            full_name="Ngô Văn Điều",
            memberships=[(pest_area.plant_protection, Role.SPECIALIST)],
        ),
        "survey_pests",
    )
    with pytest.raises(PermissionDenied):
        issue(pest_area.district, surveyor)  # the survey grant only
    with pytest.raises(PermissionDenied):
        issue(pest_area.district, pest_grant(commune_officer, "survey_pests", "issue_pest_bulletin"))
    with pytest.raises(DomainError) as error:
        issue(pest_area.commune_a, admin_user)
    assert error.value.field == "area"
    with pytest.raises(DomainError) as error:
        issue(pest_area.district, admin_user, week_start=dt.date(2025, 3, 17))  # not begun on 10/3
    assert error.value.field == "week_start"
    # The province administrator issues under the closest agency that follows the traps.
    assert issue(pest_area.district, admin_user).issuer == pest_area.plant_protection
    assert not AuditRecord.objects.filter(action="pests.bulletin.issue", actor=commune_officer).exists()


def test_an_area_without_stations_has_no_issuer(pest_catalog, pest_area, admin_user, issuer):
    other = org.create_agency(
        actor=admin_user,
        name="UBND huyện Phú Tân",
        kind=AgencyKind.DISTRICT_COMMITTEE,
        parent=pest_area.province,
        electronic_code="000.00.08.H01",
        code="ubnd-phu-tan",
    )
    with pytest.raises(DomainError, match="chưa có trạm") as error:
        issue(other, issuer)
    assert error.value.field == "area"


def test_the_pages_and_who_sees_the_files(dataset, pest_area, issuer, commune_officer, admin_user, citizen):
    browser = Client()
    browser.force_login(issuer)
    page = browser.get("/can-bo/sau-benh/thong-bao/")
    assert page.status_code == 200 and "Lập thông báo tuần" in page.content.decode()
    refused = browser.post("/can-bo/sau-benh/thong-bao/", {"area": pest_area.district.code, "week": "ngày mai"})
    assert refused.status_code == 400 and not Bulletin.objects.exists()
    done = browser.post("/can-bo/sau-benh/thong-bao/", {"area": pest_area.district.code, "week": "2025-03-05"})
    bulletin = Bulletin.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/"
    detail = browser.get(done["Location"]).content.decode()
    assert "DỰ BÁO VÀ ĐỀ XUẤT BIỆN PHÁP" in detail and "2.966,67" in detail
    pdf = browser.get(f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/tep.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    word = browser.get(f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/tep.docx")
    assert word.status_code == 200 and word.content.startswith(b"PK") and "attachment" in word["Content-Disposition"]
    assert browser.get(f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/tep.exe").status_code == 404

    # The commune officer sees their district's bulletin (and cannot issue one).
    commune = Client()
    commune.force_login(commune_officer)
    listed = commune.get("/can-bo/sau-benh/thong-bao/").content.decode()
    assert bulletin.number in listed and "Lập thông báo tuần" not in listed
    assert commune.get(f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/tep.pdf").status_code == 200
    assert (
        commune.post("/can-bo/sau-benh/thong-bao/", {"area": pest_area.district.code, "week": "2025-03-12"}).status_code
        == 403
    )

    # An officer of a commune of another district sees neither the page nor the files.
    other_district = org.create_agency(
        actor=admin_user,
        name="UBND huyện Phú Tân",
        kind=AgencyKind.DISTRICT_COMMITTEE,
        parent=pest_area.province,
        electronic_code="000.00.08.H01",
        code="ubnd-phu-tan",
    )
    far = org.create_agency(
        actor=admin_user,
        name="UBND xã Phú Thành",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=other_district,
        electronic_code="000.08.01.H01",
        code="xa-phu-thanh",
    )
    stranger = accounts.create_officer(
        actor=admin_user,
        username="nongnghiep.phu-thanh",
        password="Mat-khau-2025",
        full_name="Đỗ Văn Tâm",
        memberships=[(far, Role.SPECIALIST)],
    )
    outside = Client()
    outside.force_login(stranger)
    assert outside.get(f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/").status_code in (403, 404)
    assert outside.get(f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/tep.pdf").status_code in (403, 404)
    # A citizen: the officers' pages are not theirs.
    public = Client()
    public.force_login(citizen)
    assert public.get(f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/tep.pdf").status_code == 403


# ---------------------------------------------------------------- several officers at once (PostgreSQL)


@pytest.mark.django_db(transaction=True)
def test_issuing_at_the_same_moment_gives_one_bulletin_and_one_number(dataset, pest_area, issuer):
    if connection.vendor != "postgresql":
        pytest.skip("several connections at once need PostgreSQL; run with DATABASE_URL=postgres://…")
    workers = 3
    barrier, results, errors = threading.Barrier(workers), [], []

    def worker():
        try:
            barrier.wait()
            results.append(issue(pest_area.district, issuer).pk)
        except Exception as error:  # noqa: BLE001 — asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    bulletin = Bulletin.objects.get()
    assert results == [bulletin.pk] * workers and bulletin.number == "01/TB-TTTBVTV"
    assert AuditRecord.objects.filter(action="pests.bulletin.issue").count() == 1
    # The numbers of the rolled-back attempts went back: the next bulletin is 02.
    assert issue(pest_area.district, issuer, week_start=MONDAY + dt.timedelta(days=7)).number == "02/TB-TTTBVTV"

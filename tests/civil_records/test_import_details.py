"""Civil-status import details (issue 17, item 6): a two-digit year is flagged only where
the register's year leaves its century open; "không rõ" in a parent's column is an
unknown parent; the error workbook fills every cell a rejection names; the "Nơi đăng ký"
lists offer each commune once, however many versions it has."""

import datetime as dt
import re
import unicodedata

import pytest
from openpyxl import load_workbook

from chinhquyenso.civil_records import dates, workbook
from chinhquyenso.civil_records.fields import LIFETIME
from chinhquyenso.civil_records.models import CivilRecord
from chinhquyenso.civil_records.validation import FLAG_LABELS
from chinhquyenso.org import services as org
from chinhquyenso.org.models import Agency
from chinhquyenso.org.selectors import version_chains, versions
from tests.civil_records.test_import import HEADERS, fills, row, run, write_csv
from tests.civil_records.test_views import BASE, signed_in

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 24)
DAY = dt.date(2025, 7, 1)
LATER = dt.date(2025, 9, 1)


def codes(parsed):
    return [code for code, _ in parsed.flags]


def record_flags(number):
    return {(field, code) for field, code, _ in CivilRecord.objects.get(number=number).flags}


# ---------------------------------------------------------------- a) two-digit years


def test_a_century_forced_by_the_registers_year_is_not_flagged():
    # A 1968 birth register: "68" can only be 1968 (1868 would be a birth registered at 100).
    parsed = dates.parse("3/5/68", reference_year=1968, today=TODAY)
    assert (parsed.value, parsed.flags) == ("1968-05-03", [])
    # "10" in the same register: 1910, registered late; 2010 is after the register.
    assert (dates.parse("3/5/10", reference_year=1968, today=TODAY).value, codes(parsed)) == ("1910-05-03", [])


def test_a_century_left_open_is_flagged_naming_the_years_it_can_be():
    # Without the register's year, "68" is 1868 or 1968.
    parsed = dates.parse("3/5/68", today=TODAY)
    assert parsed.value == "1968-05-03" and codes(parsed) == ["two_digit_year"]
    assert "1868 hoặc 1968" in parsed.flags[0][1]
    # A dead person's birth in a 1968 death register: a child of 8 or a person of 108.
    parsed = dates.parse("3/5/60", reference_year=1968, years_before=LIFETIME, today=TODAY)
    assert parsed.value == "1960-05-03" and codes(parsed) == ["two_digit_year"]
    assert "1860 hoặc 1960" in parsed.flags[0][1]
    # ... but "20" can only be 1920 (1820 is over 110 years before).
    assert codes(dates.parse("3/5/20", reference_year=1968, years_before=LIFETIME, today=TODAY)) == []


def test_imported_two_digit_years_are_flagged_only_when_doubtful(tmp_path, commune):
    births = [
        row(Số_đăng_ký="1", Ngày_sinh="3/5/68"),  # a 1968 register: 1968, nothing doubtful
        row(Số_đăng_ký="2", Năm_đăng_ký="", Ngày_đăng_ký="15/05/1968", Ngày_sinh="3/5/68"),  # no year column
    ]
    run(write_csv(tmp_path / "sinh.csv", births), commune)
    first = CivilRecord.objects.get(number="1")
    assert (first.data["born_on"], first.flags, first.review_state) == ("1968-05-03", [], "clean")
    assert ("born_on", "two_digit_year") in record_flags("2")

    headers = ["Số đăng ký", "Năm đăng ký", "Họ và tên", "Ngày sinh", "Ngày chết"]
    deaths = [["11", "1968", "Trần Văn Một", "3/5/60", "2/2/1968"], ["12", "1968", "Lê Văn Hai", "3/5/20", "2/2/68"]]
    run(write_csv(tmp_path / "tu.csv", deaths, headers=headers), commune, record_type="death")
    assert record_flags("11") == {("born_on", "two_digit_year")}
    second = CivilRecord.objects.get(number="12")
    assert (second.data["born_on"], second.data["died_on"], second.flags) == ("1920-05-03", "1968-02-02", [])


# ---------------------------------------------------------------- b) unknown parents


@pytest.mark.parametrize(
    "written",
    [
        "không rõ",
        "Không rõ",
        "KHÔNG RÕ",
        "chưa rõ",
        "không biết",
        "(không rõ)",
        unicodedata.normalize("NFD", "không rõ"),
    ],
)
def test_an_unknown_parent_is_flagged_as_such_not_as_illegible(tmp_path, commune, written):
    run(write_csv(tmp_path / "so.csv", [row(Số_đăng_ký="1", Họ_và_tên_cha=written)]), commune)
    record = CivilRecord.objects.get()
    assert record_flags("1") == {("father_name", "parent_unknown")}
    assert "father_name" not in record.data and record.verbatim["Họ và tên cha"] == unicodedata.normalize(
        "NFC", written
    )
    assert "không rõ cha" in record.flags[0][2]
    assert FLAG_LABELS["parent_unknown"] == "Không rõ cha, mẹ"


def test_only_a_parents_name_says_unknown_parent(tmp_path, commune):
    rows = [
        row(Số_đăng_ký="1", Họ_và_tên_mẹ="không rõ ràng"),  # the writing is unclear
        row(Số_đăng_ký="2", Nơi_sinh="không rõ"),  # not a parent
        row(Số_đăng_ký="3", Họ_và_tên_mẹ="Không Rõ Tên Thị Tư"),  # a name, however odd
    ]
    run(write_csv(tmp_path / "so.csv", rows), commune)
    assert record_flags("1") == {("mother_name", "illegible")}
    assert record_flags("2") == {("birth_place", "illegible")}
    assert record_flags("3") == set()


def test_the_review_queue_filters_unknown_parents(tmp_path, commune, officers):
    run(write_csv(tmp_path / "so.csv", [row(Số_đăng_ký="1", Họ_và_tên_mẹ="chưa rõ")]), commune)
    html = signed_in(officers["xa_a"]["specialist"]).get(f"{BASE}ra-soat/?diem=parent_unknown").content.decode()
    assert '<option value="parent_unknown" selected>Không rõ cha, mẹ</option>' in html
    assert "<strong>Họ và tên mẹ</strong>: Không rõ cha, mẹ" in html


# ---------------------------------------------------------------- c) every cell a rejection names


def test_the_error_workbook_fills_every_cell_a_rejection_names(tmp_path, commune):
    headers = ["Quyển số", "Số đăng ký", "Năm đăng ký", "Họ và tên chồng", "Họ và tên vợ"]
    source = write_csv(tmp_path / "kh.csv", [["01", "", "1968", "", ""]], headers=headers)
    batch = run(source, commune, record_type="marriage")
    assert batch.rejected == 1
    problem = batch.problems.get(code="unusable")
    assert problem.columns == ["Họ và tên chồng", "Họ và tên vợ", "Số đăng ký"]
    out = tmp_path / "loi.xlsx"
    workbook.write(batch, source, out)
    fix = load_workbook(out)["Cần sửa"]
    assert fills(fix) == {
        (2, "Họ và tên chồng"): "00FFC7CE",
        (2, "Họ và tên vợ"): "00FFC7CE",
        (2, "Số đăng ký"): "00FFC7CE",
    }
    assert fix.cell(2, len(headers) + 2).value.startswith("Họ và tên chồng, Họ và tên vợ, Số đăng ký: Không dùng được")


def test_a_birth_rows_rejection_fills_the_name_and_the_number(tmp_path, commune):
    source = write_csv(tmp_path / "so.csv", [row(Số_đăng_ký="", Họ_và_tên="")])
    batch = run(source, commune)
    out = tmp_path / "loi.xlsx"
    workbook.write(batch, source, out)
    filled = fills(load_workbook(out)["Cần sửa"])
    assert set(filled) == {(2, "Họ và tên"), (2, "Số đăng ký")} and set(HEADERS) >= {h for _, h in filled}


# ---------------------------------------------------------------- d) each commune once


@pytest.fixture
def commune(province):
    return province["xa_a"]


@pytest.fixture
def two_tier(province, admin_user):
    """Two reorganizations on 01/7/2025 give each commune three versions (one valid for zero days)."""
    org.dissolve(actor=admin_user, agency=province["huyen"], successor=province["ubnd"], effective_date=DAY)
    org.rename(
        actor=admin_user,
        agency=Agency.objects.get(pk=province["ubnd"].pk),
        new_name="UBND tỉnh An Giang",
        effective_date=DAY,
    )


def options(html):
    """The "Nơi đăng ký" list: (value, text, selected) of each option but the first."""
    select = re.search(r'<select id="xa" name="xa".*?</select>', html, re.S).group(0)
    return [
        (value, text, bool(selected))
        for value, selected, text in re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', select)
    ]


def imported_before(tmp_path, province):
    """Records stored on the first version of xa_a, before the reorganizations."""
    return run(write_csv(tmp_path / "so.csv", [row(Số_đăng_ký="1", Họ_và_tên="Võ Văn Một")]), province["xa_a"])


def test_each_commune_is_listed_once_and_finds_the_records_of_all_its_versions(tmp_path, province, officers, request):
    imported_before(tmp_path, province)
    request.getfixturevalue("two_tier")  # after the import: the record is on the first version
    kien_an = versions(province["xa_a"])
    assert len(kien_an) == 3
    client = signed_in(officers["xa_a"]["specialist"])
    for page in ("", "nhap/", "ra-soat/"):
        listed = options(client.get(f"{BASE}{page}").content.decode())
        assert [text for _, text, _ in listed] == ["UBND xã Kiến An"], page
        assert listed[0][0] == str(kien_an[-1].pk)  # the version valid today
    # Choosing it finds the record stored on its first version.
    html = client.post(BASE, {"xa": kien_an[-1].pk}, follow=True).content.decode()
    assert "Võ Văn Một" in html and options(html) == [(str(kien_an[-1].pk), "UBND xã Kiến An", True)]
    review = client.get(f"{BASE}ra-soat/?xa={kien_an[0].pk}").content.decode()
    assert options(review) == [(str(kien_an[-1].pk), "UBND xã Kiến An", True)]


def test_former_communes_are_listed_under_their_historical_names(tmp_path, province, two_tier, admin_user):
    imported_before(tmp_path, province)
    kien_an, kien_thanh = (versions(province[key])[-1] for key in ("xa_a", "xa_b"))
    merged = org.merge(
        actor=admin_user,
        sources=[kien_an, kien_thanh],
        name="UBND xã Chợ Mới",
        kind=kien_an.kind,
        parent=kien_an.parent,
        effective_date=LATER,
    )
    renamed = org.rename(
        actor=admin_user, agency=merged, new_name="UBND phường Chợ Mới", effective_date=dt.date(2025, 10, 1)
    )
    client = signed_in(admin_user)
    listed = options(client.get(BASE).content.decode())
    assert [text for _, text, _ in listed] == [
        "UBND phường Chợ Mới (trước đây: UBND xã Chợ Mới)",
        "UBND xã Kiến An (đến 31/08/2025)",
        "UBND xã Kiến Thành (đến 31/08/2025)",
    ]
    assert listed[0][0] == str(renamed.pk) and listed[1][0] == str(kien_an.pk)
    # A former commune finds the records of all its versions; its successor's unit holds none of them.
    assert "Võ Văn Một" in client.post(BASE, {"xa": kien_an.pk}, follow=True).content.decode()
    assert "Võ Văn Một" not in client.post(BASE, {"xa": renamed.pk}, follow=True).content.decode()


def test_the_lists_chains_are_the_versions_of_each_commune(province, two_tier, admin_user):
    """The lists read every chain at once (org.selectors.version_chains): the same chains as versions()."""
    kien_an, kien_thanh = (versions(province[key])[-1] for key in ("xa_a", "xa_b"))
    org.merge(
        actor=admin_user,
        sources=[kien_an, kien_thanh],
        name="UBND xã Chợ Mới",
        kind=kien_an.kind,
        parent=kien_an.parent,
        effective_date=LATER,
    )
    agencies = list(Agency.objects.order_by("-pk"))
    chains = version_chains(agencies)
    for chain in chains:
        for agency in chain:
            assert [v.pk for v in versions(agency)] == [v.pk for v in chain]
    assert {a.pk for chain in chains for a in chain} == {a.pk for a in agencies}

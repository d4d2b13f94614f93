"""The platform's own sources mirrored into SourceRecord (civil-status records, dossier applicants),
and addresses resolved to today's commune (persons.sources)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chinhquyenso.civil_records.models import CivilRecord, ReviewState
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.dossiers.models import Channel, Dossier
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind
from chinhquyenso.org.selectors import agency_for_address
from chinhquyenso.persons import sources
from chinhquyenso.persons.models import Person, Source, SourceRecord

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def civil(commune, kind, number, *, state=ReviewState.CLEAN, **fields):
    values = {"subject_name": "", "spouse_name": "", "sex": "", "data": {}, "registered_on": dt.date(2020, 5, 4)}
    values.update(fields)
    return CivilRecord.objects.create(
        record_type=kind,
        commune=commune,
        number=str(number),
        year=2020,
        identity_key=f"s:|{number}|2020",
        review_state=state,
        **values,
    )


def dossier(procedure, applicant, agency, code, identity, name, *, day, **fields):
    return Dossier.objects.create(
        code=code,
        procedure=procedure,
        channel=Channel.ONLINE,
        applicant=applicant,
        applicant_name=name,
        applicant_identity=identity,
        receiving_agency=agency,
        current_agency=agency,
        submitted_at=dt.datetime(*day, 9, 0, tzinfo=VN),
        **fields,
    )


@pytest.fixture
def merged(province, admin_user):
    """Kiến An and Kiến Thành merged on 01/7/2025 into xã Kiến Hòa."""
    return org.merge(
        actor=admin_user,
        sources=[province["xa_a"], province["xa_b"]],
        name="UBND xã Kiến Hòa",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        effective_date=dt.date(2025, 7, 1),
    )


ADDRESSES = [
    "Ấp Long Hòa, xã Kiến An, huyện Chợ Mới",
    "kien thanh, cho moi",
    "X.Kiến An",
    "xã Kiến Hòa",
    "Kiến An và Kiến Thành",  # two names without their type: the longer one
    "thành phố Long Xuyên",
    "",
]


@pytest.mark.parametrize("merge", [False, True])
def test_the_resolver_answers_as_agency_for_address_with_two_queries(province, admin_user, request, merge):
    if merge:
        request.getfixturevalue("merged")
    resolver = sources.CommuneResolver()
    with CaptureQueriesContext(connection) as queries:
        answers = [resolver.resolve(address) for address in ADDRESSES * 3]
    assert len(queries) == 2
    expected = [getattr(agency_for_address(address), "pk", None) for address in ADDRESSES] * 3
    assert answers == expected
    if merge:  # an address still naming a merged commune gives its successor
        kien_hoa = province["xa_a"].successions_out.get().successor_id
        assert answers[:4] == [kien_hoa] * 4 and answers[4] == kien_hoa
        assert resolver.current(province["xa_b"].pk) == kien_hoa
    else:
        assert answers[:3] == [province["xa_a"].pk, province["xa_b"].pk, province["xa_a"].pk]
        assert answers[4] == province["xa_b"].pk
    assert sources.resolve_commune("xã Kiến Thành, Chợ Mới") == (kien_hoa if merge else province["xa_b"].pk)


def test_sync_mirrors_births_deaths_both_spouses_and_applicants(province, birth_procedure, citizen):
    xa_a, xa_b = province["xa_a"], province["xa_b"]
    birth = civil(xa_a, "birth", 1, subject_name="Nguyễn Thị Thuý", sex="Nữ", data={"born_on": "2020-04-30"})
    death = civil(
        xa_a,
        "death",
        2,
        state=ReviewState.FLAGGED,
        subject_name="Trần Văn Bảy",
        sex="Nam",
        data={"born_on": "1941", "residence": "Ấp 3, xã Kiến Thành"},
        registered_on=None,
        event_from=dt.date(2020, 1, 2),
    )
    marriage = civil(
        xa_b,
        "marriage",
        3,
        state=ReviewState.REVIEWED,
        subject_name="Lê Văn Chín",
        spouse_name="Phạm Thị Mười",
        data={"husband_born": "1995-02-03", "wife_born": "1997-11", "wife_residence": "xã Kiến An"},
    )
    civil(xa_a, "birth", 4, subject_name="")  # a register entry with only a number: nobody to link
    dossier(
        birth_procedure,
        citizen,
        xa_b,
        "D-1",
        "089190012345",
        "Nguyễn Thị Thúy",
        day=(2024, 1, 5),
        applicant_phone="01663123456",
        applicant_address="cũ",
    )
    dossier(
        birth_procedure,
        citizen,
        xa_b,
        "D-2",
        "089190012345",
        "Nguyễn Thị Thuý",
        day=(2025, 3, 9),
        applicant_phone="0912345678",
        applicant_address="Ấp Long Hòa, xã Kiến An",
        applicant_verified=True,
    )
    dossier(birth_procedure, citizen, xa_b, "D-3", "0301234567-001", "Công ty TNHH Ánh Dương", day=(2025, 3, 9))
    dossier(birth_procedure, citizen, xa_b, "D-4", "123456789", "Võ Văn Tư", day=(2023, 6, 1))

    counts = sources.sync_all()
    assert counts["civil"] == {"created": 4, "updated": 0, "unchanged": 0, "skipped": 1}
    assert counts["applicant"] == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 1}
    assert (counts["created"], counts["updated"]) == (6, 0)
    records = {(r.source, r.source_id): r for r in SourceRecord.objects.all()}
    child = records[Source.CIVIL, str(birth.pk)]
    assert (child.full_name, child.sex, child.birth_year, child.birth_month, child.birth_day) == (
        "Nguyễn Thị Thuý",
        "nu",
        2020,
        4,
        30,
    )
    assert (child.commune_id, child.verified, child.recorded_on) == (xa_a.pk, True, dt.date(2020, 5, 4))
    assert child.data["record_type"] == "birth"
    dead = records[Source.CIVIL, str(death.pk)]
    assert (dead.birth_year, dead.birth_month, dead.address) == (1941, None, "Ấp 3, xã Kiến Thành")
    assert (dead.commune_id, dead.verified, dead.recorded_on) == (xa_b.pk, False, dt.date(2020, 1, 2))
    husband = records[Source.CIVIL, f"{marriage.pk}/husband"]
    wife = records[Source.CIVIL, f"{marriage.pk}/wife"]
    assert (husband.full_name, husband.sex, husband.birth_year, husband.commune_id) == (
        "Lê Văn Chín",
        "nam",
        1995,
        xa_b.pk,
    )
    assert (wife.full_name, wife.sex, wife.birth_month, wife.commune_id) == ("Phạm Thị Mười", "nu", 11, xa_a.pk)
    assert husband.verified and wife.verified
    # One record per applicant ID, from the latest dossier; a company's tax code is not a person.
    applicant = records[Source.APPLICANT, "089190012345"]
    assert (applicant.full_name, applicant.phone, applicant.address) == (
        "Nguyễn Thị Thuý",
        "0912345678",
        "Ấp Long Hòa, xã Kiến An",
    )
    assert (applicant.id_number, applicant.verified, applicant.recorded_on) == (
        "089190012345",
        True,
        dt.date(2025, 3, 9),
    )
    assert applicant.commune_id == xa_a.pk
    other = records[Source.APPLICANT, "123456789"]
    assert other.commune_id == xa_b.pk  # no address: the commune that received the dossier
    [entry] = AuditRecord.objects.filter(action="persons.sync")
    assert entry.after["civil"]["created"] == 4 and "Thuý" not in str(entry.after)


def test_sync_again_updates_in_place_keeps_the_person_and_never_deletes(province, birth_procedure, citizen):
    xa_a = province["xa_a"]
    birth = civil(xa_a, "birth", 1, subject_name="Nguyễn Thị Thuý", sex="Nữ", data={"born_on": "2020-04-30"})
    death = civil(xa_a, "death", 2, subject_name="Trần Văn Bảy", data={"born_on": "1941"})
    sources.sync_all()
    person = Person.objects.create(code="CN-1")
    SourceRecord.objects.filter(source_id=str(birth.pk)).update(person=person)
    before = SourceRecord.objects.get(source_id=str(birth.pk))

    CivilRecord.objects.filter(pk=birth.pk).update(subject_name="Nguyễn Thị Thúy", data={"born_on": "2020-04-29"})
    death.delete()
    counts = sources.sync_all()
    assert counts["civil"] == {"created": 0, "updated": 1, "unchanged": 0, "skipped": 0}
    after = SourceRecord.objects.get(source_id=str(birth.pk))
    assert (after.pk, after.full_name, after.birth_day, after.person_id) == (
        before.pk,
        "Nguyễn Thị Thúy",
        29,
        person.pk,
    )
    assert SourceRecord.objects.filter(source=Source.CIVIL).count() == 2  # the deleted register entry's stays
    assert sources.sync_all()["civil"] == {"created": 0, "updated": 0, "unchanged": 1, "skipped": 0}


def test_sync_takes_a_few_queries_per_chunk_however_many_records(province, birth_procedure, citizen):
    xa_a = province["xa_a"]

    def add(start, count):
        for n in range(start, start + count):
            civil(xa_a, "marriage", n, subject_name=f"Chồng {n}", spouse_name=f"Vợ {n}")
            dossier(
                birth_procedure,
                citizen,
                xa_a,
                f"D-{n}",
                f"0891900{n:05d}",
                f"Người {n}",
                day=(2025, 1, 2),
                applicant_address="xã Kiến An",
            )

    def queries():
        with CaptureQueriesContext(connection) as captured:
            sources.sync_all(chunk_size=10)
        return len(captured)

    add(1, 10)
    first = queries()
    add(11, 30)
    SourceRecord.objects.all().delete()
    # 40 marriages (80 spouses, 8 chunks) and 40 applicants (4 chunks) instead of 10 and 10 (2 + 1):
    # each further chunk costs a read of the source, a read of what is stored, one insert and its
    # transaction's savepoint and release — never a query per record.
    assert queries() - first <= 5 * ((8 - 2) + (4 - 1))
    assert SourceRecord.objects.count() == 120

"""Datasets: drafting, approval, withdrawal, the versions and audit records each step writes, the
checks on metadata (each refusal names its field, in Vietnamese), and who may do what."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.core.registry import AUDIT_ACTIONS
from chinhquyenso.opendata.models import Dataset, DatasetStatus, DatasetVersion, Licence, Tag
from chinhquyenso.opendata.services import datasets

pytestmark = pytest.mark.usefixtures("licences_and_themes")


@pytest.fixture
def auditor(db, province):
    return accounts.create_officer(
        actor=None, username="kiem.tra", password="Mat-khau-2025", full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )


def create(officers, agency_key="tu_phap", role="specialist", **fields):
    fields.setdefault("title", "Danh sách trường học")
    actor = officers[agency_key][role]
    return datasets.create_dataset(actor=actor, agency=actor.memberships.get().agency, fields=fields)


def audit_actions(dataset) -> list[str]:
    return list(
        AuditRecord.objects.filter(object_type="opendata.Dataset", object_id=str(dataset.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


# ---------------------------------------------------------------- creating


def test_a_draft_gets_a_name_from_its_title_a_version_and_an_audit_record(province, officers):
    dataset = create(officers, title="Danh sách Trường học  phổ thông", themes=["giao-duc"], tags=["Trường học"])
    assert dataset.status == DatasetStatus.DRAFT
    assert dataset.name == "danh-sach-truong-hoc-pho-thong"
    assert dataset.title == "Danh sách Trường học phổ thông"
    assert dataset.licence == Licence.objects.get(is_default=True)
    assert dataset.licence.code == "cc-by-4.0"
    assert dataset.created_by == officers["tu_phap"]["specialist"]
    version = dataset.versions.get()
    assert (version.number, version.action, version.status) == (1, "create", DatasetStatus.DRAFT)
    assert version.snapshot["themes"] == ["giao-duc"] and version.snapshot["tags"] == ["Trường học"]
    assert "contact_email" not in version.snapshot and "contact_name" not in version.snapshot
    assert dataset.revision == 1
    assert audit_actions(dataset) == ["opendata.create"]
    record = AuditRecord.objects.get(action="opendata.create")
    assert record.agency_id == province["tu_phap"].pk and "description" not in record.after
    assert " danh sach truong hoc pho thong | " in dataset.search_text
    assert "so tu phap" in dataset.search_text and "giao duc" in dataset.search_text


def test_the_same_title_twice_gives_two_names(province, officers):
    first, second = create(officers), create(officers, agency_key="cong_an")
    third = create(officers)
    assert [first.name, second.name, third.name] == [
        "danh-sach-truong-hoc",
        "danh-sach-truong-hoc-2",
        "danh-sach-truong-hoc-3",
    ]


def test_a_given_name_is_checked_and_must_be_free(province, officers):
    assert create(officers, name="truong-hoc_2024").name == "truong-hoc_2024"
    with pytest.raises(DomainError) as taken:
        create(officers, name="truong-hoc_2024")
    assert taken.value.field == "name" and "đã được dùng" in taken.value.message
    for bad in ("Trường", "a", "x" * 101, "có dấu", "UPPER"):
        with pytest.raises(DomainError) as refused:
            create(officers, name=bad)
        assert refused.value.field == "name"
    with pytest.raises(DomainError) as reserved:
        create(officers, name="cong-bo")
    assert reserved.value.field == "name" and "trang cố định" in reserved.value.message
    assert create(officers, title="Công bố").name == "cong-bo-2"  # a title never takes a fixed page's name


def test_a_title_without_letters_still_gives_a_name(province, officers):
    assert create(officers, title="!!!").name == "du-lieu"
    assert create(officers, title="Ư").name == "du-lieu-u"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"title": ""}, "title", "Hãy nhập tên bộ dữ liệu"),
        ({"title": "x" * 301}, "title", "dài quá 300"),
        ({"title": "Tên\x00có byte 0"}, "title", "ký tự điều khiển"),
        ({"description": "Mô tả\x1b[31m"}, "description", "ký tự điều khiển"),
        ({"tags": ["nông\x07nghiệp"]}, "tags", "ký tự điều khiển"),
        ({"temporal_start": "2024-13-01"}, "temporal_start", "YYYY-MM-DD"),
        ({"temporal_start": "99999-01-01"}, "temporal_start", "YYYY-MM-DD"),
        ({"temporal_end": "1800-01-01"}, "temporal_end", "1900"),
        ({"temporal_end": dt.date(2500, 1, 1)}, "temporal_end", "2199"),
        ({"temporal_start": 10**30}, "temporal_start", "YYYY-MM-DD"),
        ({"temporal_start": "2024-12-31", "temporal_end": "2024-01-01"}, "temporal_end", "trước ngày kết thúc"),
        ({"contact_email": "khong-phai-thu"}, "contact_email", "không hợp lệ"),
        ({"themes": ["khong-co"]}, "themes", "không có trong danh mục"),
        ({"themes": "y-te," * 30}, "themes", "tối đa 20"),
        ({"licence": "giay-phep-la"}, "licence", "không có trong danh mục"),
        ({"frequency": "HOURLY"}, "frequency", "không có trong danh mục"),
        ({"tags": [f"t{n}" for n in range(51)]}, "tags", "tối đa 50"),
        ({"tags": ["x" * 101]}, "tags", "dài quá 100"),
        ({"tags": {"nested": 1}}, "tags", "danh sách"),
        ({"spatial_code": "89A"}, "spatial_code", "chữ số"),
        ({"spatial_code": "1" * 11}, "spatial_code", "dài quá 10"),
        ({"version": ["1"]}, "version", "văn bản"),
    ],
)
def test_bad_metadata_is_refused_naming_the_field(province, officers, fields, field, words):
    fields = {"title": "Bộ dữ liệu", **fields}
    with pytest.raises(DomainError) as refused:
        create(officers, **fields)
    assert refused.value.field == field
    assert words in refused.value.message
    assert not Dataset.objects.exists()


def test_metadata_is_normalized(province, officers):
    dataset = create(
        officers,
        title=unicodedata.normalize("NFD", "Sản lượng lúa  theo huyện"),
        description="Dòng một\r\n\r\n\r\nDòng hai  có   khoảng trắng",
        tags=[unicodedata.normalize("NFD", "Nông nghiệp"), {"name": "lúa"}, "lúa"],
        temporal_start=dt.date(2024, 1, 1),
        temporal_end="2024-12-31T00:00:00",
        contact_email="lien.he@sonn.gov.vn",
        frequency="",
    )
    assert dataset.title == "Sản lượng lúa theo huyện"
    assert dataset.description == "Dòng một\n\nDòng hai có khoảng trắng"
    assert sorted(dataset.tags.values_list("name", flat=True)) == ["Nông nghiệp", "lúa"]
    assert dataset.temporal_end == dt.date(2024, 12, 31)
    assert dataset.frequency == "IRREG"


def test_keywords_are_reused(province, officers):
    create(officers, tags=["Nông nghiệp", "lúa"])
    create(officers, agency_key="cong_an", tags=["Nông nghiệp"])
    assert Tag.objects.count() == 2
    assert Tag.objects.get(name="Nông nghiệp").folded == "nong nghiep"
    assert Tag.objects.get(name="Nông nghiệp").datasets.count() == 2


def test_an_idempotency_key_returns_the_first_dataset(province, officers):
    officer, agency = officers["tu_phap"]["specialist"], province["tu_phap"]
    first = datasets.create_dataset(actor=officer, agency=agency, fields={"title": "Hộ tịch"}, key="k-1")
    again = datasets.create_dataset(actor=officer, agency=agency, fields={"title": "Hộ tịch"}, key="k-1")
    assert again.pk == first.pk and getattr(again, "replayed", False)
    with pytest.raises(DomainError) as conflict:
        datasets.create_dataset(actor=officer, agency=agency, fields={"title": "Khác"}, key="k-1")
    assert conflict.value.code == "conflict"
    assert Dataset.objects.count() == 1


def test_who_may_create(province, officers, citizen, auditor, admin_user):
    agency = province["tu_phap"]
    for actor in (officers["cong_an"]["leader"], citizen, admin_user, None):
        with pytest.raises(PermissionDenied):
            datasets.create_dataset(actor=actor, agency=agency, fields={"title": "X"})
    with pytest.raises(PermissionDenied) as read_only:
        datasets.create_dataset(actor=auditor, agency=agency, fields={"title": "X"})
    assert "chỉ được xem" in read_only.value.message
    for role in ("counter_officer", "specialist", "leader", "agency_admin", "clerk"):
        datasets.create_dataset(actor=officers["tu_phap"][role], agency=agency, fields={"title": "X"})
    assert Dataset.objects.count() == 5


def test_created_through_the_api_waits_for_the_leader(province, officers):
    dataset = datasets.create_dataset(
        actor=officers["tu_phap"]["specialist"], agency=province["tu_phap"], fields={"title": "X"}, submit=True
    )
    assert dataset.status == DatasetStatus.SUBMITTED
    assert list(dataset.versions.order_by("number").values_list("action", flat=True)) == ["create", "submit"]


# ---------------------------------------------------------------- statuses


def test_draft_submit_approve_withdraw(province, officers, admin_user):
    specialist, leader = officers["tu_phap"]["specialist"], officers["tu_phap"]["leader"]
    dataset = create(officers)
    with pytest.raises(DomainError) as early:
        datasets.approve(dataset, actor=leader)
    assert early.value.field == "status" and "Bản nháp" in early.value.message
    datasets.submit(dataset, actor=specialist)
    for refused in (specialist, officers["cong_an"]["leader"], officers["ubnd"]["leader"], admin_user):
        with pytest.raises(PermissionDenied):
            datasets.approve(dataset, actor=refused)
    datasets.approve(dataset, actor=leader)
    assert dataset.status == DatasetStatus.PUBLIC and dataset.published_at is not None
    with pytest.raises(DomainError):
        datasets.approve(dataset, actor=leader)
    with pytest.raises(PermissionDenied):
        datasets.withdraw(dataset, actor=specialist, reason="Sai")
    with pytest.raises(DomainError) as no_reason:
        datasets.withdraw(dataset, actor=admin_user, reason="  ")
    assert no_reason.value.field == "reason"
    datasets.withdraw(dataset, actor=admin_user, reason="Công bố nhầm dữ liệu cá nhân")
    assert dataset.status == DatasetStatus.WITHDRAWN
    assert dataset.withdrawn_reason == "Công bố nhầm dữ liệu cá nhân"
    with pytest.raises(DomainError):
        datasets.update_dataset(dataset, actor=specialist, fields={"title": "Mới"})
    versions = list(dataset.versions.order_by("number").values_list("number", "action", "status", "note"))
    assert versions == [
        (1, "create", "draft", ""),
        (2, "submit", "submitted", ""),
        (3, "approve", "public", ""),
        (4, "withdraw", "withdrawn", "Công bố nhầm dữ liệu cá nhân"),
    ]
    assert audit_actions(dataset) == ["opendata.create", "opendata.submit", "opendata.approve", "opendata.withdraw"]
    for action in audit_actions(dataset):
        assert AUDIT_ACTIONS.label(action) != action  # every code has its Vietnamese name
    assert AUDIT_ACTIONS.label("opendata.withdraw") == "Rút bộ dữ liệu khỏi cổng dữ liệu mở"
    record = AuditRecord.objects.get(action="opendata.withdraw")
    assert record.before["status"] == "public" and record.after["status"] == "withdrawn"


def test_the_leader_returns_a_submitted_dataset_with_a_reason(province, officers):
    dataset = create(officers)
    datasets.submit(dataset, actor=officers["tu_phap"]["specialist"])
    with pytest.raises(DomainError) as no_reason:
        datasets.return_to_draft(dataset, actor=officers["tu_phap"]["leader"], reason="")
    assert no_reason.value.field == "reason"
    datasets.return_to_draft(dataset, actor=officers["tu_phap"]["leader"], reason="Bổ sung mô tả")
    assert dataset.status == DatasetStatus.DRAFT
    assert dataset.versions.get(number=3).note == "Bổ sung mô tả"


def test_the_auditor_reads_but_never_writes(province, officers, auditor):
    dataset = create(officers)
    for action in (
        lambda: datasets.submit(dataset, actor=auditor),
        lambda: datasets.update_dataset(dataset, actor=auditor, fields={"title": "X"}),
        lambda: datasets.withdraw(dataset, actor=auditor, reason="X"),
    ):
        with pytest.raises(PermissionDenied):
            action()
    assert dataset.revision == 1


def test_an_officer_of_another_agency_is_refused(province, officers):
    dataset = create(officers)
    with pytest.raises(PermissionDenied):
        datasets.update_dataset(dataset, actor=officers["xa_a"]["specialist"], fields={"title": "X"})
    with pytest.raises(PermissionDenied):
        datasets.submit(dataset, actor=officers["cong_an"]["specialist"])


# ---------------------------------------------------------------- editing


def test_a_public_dataset_stays_public_and_every_change_is_a_version(province, officers, make_dataset):
    specialist = officers["tu_phap"]["specialist"]
    dataset = make_dataset(province["tu_phap"], specialist, status="public", title="Hộ tịch", tags=["a"])
    revision = dataset.revision
    datasets.update_dataset(dataset, actor=specialist, fields={"title": "Hộ tịch 2024", "tags": ["a", "b"]})
    assert dataset.status == DatasetStatus.PUBLIC and dataset.revision == revision + 1
    assert dataset.title == "Hộ tịch 2024" and " ho tich 2024 | " in dataset.search_text
    version = dataset.versions.get(number=dataset.revision)
    assert version.action == "update" and version.snapshot["tags"] == ["a", "b"]
    record = AuditRecord.objects.filter(action="opendata.update").get()
    assert record.after["fields"] == ["tags", "title"]
    datasets.update_dataset(dataset, actor=specialist, fields={"title": "Hộ tịch 2024", "tags": ["b", "a"]})
    assert dataset.revision == revision + 1  # nothing changed: no version
    datasets.update_dataset(dataset, actor=specialist, fields={"title": "Hộ tịch 2024"}, partial=False)
    assert dataset.revision == revision + 2 and not dataset.tags.exists()
    assert DatasetVersion.objects.filter(dataset=dataset).count() == dataset.revision


def test_an_update_checks_like_a_create(province, officers):
    dataset = create(officers)
    other = create(officers, title="Khác")
    specialist = officers["tu_phap"]["specialist"]
    with pytest.raises(DomainError) as taken:
        datasets.update_dataset(dataset, actor=specialist, fields={"name": other.name})
    assert taken.value.field == "name"
    datasets.update_dataset(dataset, actor=specialist, fields={"temporal_end": "2024-01-01"})
    with pytest.raises(DomainError) as period:
        datasets.update_dataset(dataset, actor=specialist, fields={"temporal_start": "2030-01-01"})
    assert period.value.field == "temporal_end"
    dataset.refresh_from_db()
    assert dataset.temporal_start is None and dataset.revision == 2  # created, then the end date


def test_a_successor_agencys_officer_works_on_its_predecessors_datasets(province, officers, admin_user):
    from chinhquyenso.org.models import Reorganization, Succession

    merge = Reorganization.objects.create(kind=Reorganization.Kind.MERGE, effective_date=dt.date(2025, 7, 1))
    Succession.objects.create(reorganization=merge, source=province["xa_b"], successor=province["xa_a"])
    dataset = datasets.create_dataset(
        actor=officers["xa_a"]["specialist"], agency=province["xa_b"], fields={"title": "Dữ liệu xã cũ"}
    )
    datasets.submit(dataset, actor=officers["xa_a"]["specialist"])
    datasets.approve(dataset, actor=officers["xa_a"]["leader"])
    assert dataset.status == DatasetStatus.PUBLIC


def test_generated_datasets_are_published_by_the_system(province):
    fields = {"title": "Hồ sơ thủ tục hành chính theo tháng", "themes": ["hanh-chinh-cong"], "frequency": "MONTHLY"}
    dataset = datasets.publish_generated(agency=province["ubnd"], generator="ho-so", fields=fields)
    assert dataset.status == DatasetStatus.PUBLIC and dataset.generator == "ho-so" and dataset.published_at
    again = datasets.publish_generated(agency=province["ubnd"], generator="ho-so", fields=fields)
    assert again.pk == dataset.pk and again.revision == 1
    changed = datasets.publish_generated(
        agency=province["ubnd"], generator="ho-so", fields={**fields, "description": "Mới"}
    )
    assert changed.revision == 2 and changed.description == "Mới"
    assert audit_actions(dataset) == ["opendata.publish_generated", "opendata.update"]
    assert AuditRecord.objects.filter(action="opendata.publish_generated").get().actor is None


def test_loading_the_vocabularies_again_keeps_the_provinces_edits(db):
    from chinhquyenso.opendata.models import Theme
    from chinhquyenso.opendata.vocabularies import load

    Theme.objects.filter(code="y-te").update(name="Y tế và dân số")
    Licence.objects.filter(code="cc0-1.0").delete()
    assert load() == (1, 0)
    assert Theme.objects.get(code="y-te").name == "Y tế và dân số"
    assert Theme.objects.count() == 12 and Licence.objects.filter(is_default=True).count() == 1
    assert Theme.objects.get(code="nong-nghiep").eu_theme == "AGRI"


# ---------------------------------------------------------------- the province's default licence


def test_the_database_allows_one_default_licence(licences_and_themes):
    from django.db import IntegrityError, transaction

    assert Licence.objects.filter(is_default=True).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Licence.objects.filter(code="cc0-1.0").update(is_default=True)


def test_choosing_another_default_in_the_admin_clears_the_previous_one(licences_and_themes, admin_user, client):
    cc0 = Licence.objects.get(code="cc0-1.0")
    client.force_login(admin_user)
    response = client.post(
        f"/quan-tri/opendata/licence/{cc0.pk}/change/",
        {"code": cc0.code, "title": cc0.title, "url": cc0.url, "is_default": "on", "open": "on"},
    )
    assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", response.content.decode(), re.S)
    assert list(Licence.objects.filter(is_default=True).values_list("code", flat=True)) == ["cc0-1.0"]
    cleared = AuditRecord.objects.filter(
        action="opendata.licence.update", object_id=str(Licence.objects.get(code="cc-by-4.0").pk)
    )
    assert cleared.exists()


def test_new_datasets_and_live_datasets_take_the_provinces_default_licence(
    licences_and_themes, province, officers, birth_procedure, registry
):
    from chinhquyenso.opendata import live

    live.refresh_live_datasets(only=["thu-tuc-hanh-chinh"])
    generated = Dataset.objects.get(generator="thu-tuc-hanh-chinh")
    assert generated.licence.code == "cc-by-4.0"  # the shipped default
    Licence.objects.update(is_default=False)
    Licence.objects.filter(code="cc0-1.0").update(is_default=True)  # as the admin does, in one transaction

    drafted = datasets.create_dataset(
        actor=officers["tu_phap"]["specialist"],
        agency=province["tu_phap"],
        fields={"title": "Danh sách tổ chức hành nghề công chứng"},
    )
    assert drafted.licence.code == "cc0-1.0"
    live.refresh_live_datasets(only=["thu-tuc-hanh-chinh"])
    generated.refresh_from_db()
    assert generated.licence.code == "cc0-1.0"  # the live dataset follows the province's choice
    assert generated.versions.order_by("-number").first().action == "update"

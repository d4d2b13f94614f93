"""Live datasets (opendata.live): the catalog's datasets are created public as the system, published by
the province's committee, each table as a CSV and an XLSX; a second refresh with nothing changed
rewrites nothing; a withdrawn live dataset stays withdrawn; `cqs opendata refresh`."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chinhquyenso.opendata import live
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(province, birth_procedure, registry, licences_and_themes):
    return province


def test_every_catalog_entry_has_a_generator():
    assert {entry["generator"] for entry in live.catalog()} == set(live.GENERATORS)


def test_refresh_creates_the_live_datasets_public(platform):
    done = live.refresh_live_datasets()
    assert sorted(done["refreshed"]) == sorted(live.GENERATORS)
    datasets = {d.generator: d for d in Dataset.objects.exclude(generator="")}
    assert set(datasets) == set(live.GENERATORS)
    for dataset in datasets.values():
        assert dataset.status == DatasetStatus.PUBLIC and dataset.published_at is not None
        assert dataset.agency == platform["ubnd"]
        assert dataset.created_by is None  # the system
        assert sorted(dataset.resources.values_list("format", flat=True)) == ["CSV", "XLSX"]
    catalog = datasets["thu-tuc-hanh-chinh"].resources.get(format="CSV")
    with catalog.file.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    assert "1.001193" in text and "Đăng ký khai sinh" in text
    assert catalog.row_count == 1
    publishing = datasets["cong-bo-du-lieu-mo"].resources.get(format="CSV")
    # The five counted agencies, and the committee publishing the live datasets made before this one.
    assert publishing.row_count == 6


def test_a_second_refresh_with_nothing_changed_writes_nothing(platform):
    live.refresh_live_datasets()
    before = {r.pk: (r.file_id, r.modified_at) for r in Resource.objects.all()}
    revisions = dict(Dataset.objects.values_list("pk", "revision"))
    live.refresh_live_datasets()
    live.refresh_live_datasets()
    after = {r.pk: (r.file_id, r.modified_at) for r in Resource.objects.all()}
    # Only the publishing table may change: on the first refresh the committee had not yet published it.
    changed = {pk for pk in after if before.get(pk) != after[pk]}
    generators = set(Resource.objects.filter(pk__in=changed).values_list("dataset__generator", flat=True))
    assert generators <= {"cong-bo-du-lieu-mo"}
    assert len(after) == len(before)
    live.refresh_live_datasets()
    assert {r.pk: (r.file_id, r.modified_at) for r in Resource.objects.all()} == after
    for pk, revision in Dataset.objects.values_list("pk", "revision"):
        assert revision >= revisions[pk]


def test_a_withdrawn_live_dataset_is_not_regenerated(platform, admin_user):
    from chinhquyenso.opendata.services import datasets

    live.refresh_live_datasets()
    dataset = Dataset.objects.get(generator="thong-ke-ho-so")
    datasets.withdraw(dataset, actor=admin_user, reason="Kiểm tra lại cách ẩn ô nhỏ")
    done = live.refresh_live_datasets()
    assert "thong-ke-ho-so: đã rút" in done["skipped"]
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.WITHDRAWN


def test_the_command(platform):
    out = io.StringIO()
    call_command("opendata", "refresh", "--only", "thu-tuc-hanh-chinh", stdout=out)
    assert "Đã làm mới: thu-tuc-hanh-chinh" in out.getvalue()
    assert list(Dataset.objects.exclude(generator="").values_list("generator", flat=True)) == ["thu-tuc-hanh-chinh"]
    with pytest.raises(CommandError, match="Không có bộ sinh dữ liệu khong-co"):
        call_command("opendata", "refresh", "--only", "khong-co")


def test_the_job_refreshes(platform):
    from chinhquyenso.opendata.jobs import refresh_open_data

    result = refresh_open_data.call()
    assert sorted(result["refreshed"]) == sorted(live.GENERATORS)

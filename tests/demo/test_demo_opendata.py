"""`cqs seed-demo`'s open data (demo.opendata): seed 001's figure — 179 of the 188 counted agencies
publish open data at the end of its period (30/9/2024), the live datasets are public, the legacy
Windows-1258 file reads with its diacritics, and today's leaders have datasets to approve.

The province (no dossiers, no documents: neither is what is checked here) is built once for the
module with `seed_demo`, inside a transaction rolled back at the end."""

import datetime as dt
import unicodedata
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from chinhquyenso.core.text import format_ratio
from chinhquyenso.demo import opendata as demo_opendata
from chinhquyenso.demo import services
from chinhquyenso.opendata import datastore, tabular
from chinhquyenso.opendata.figures import publishing_figures
from chinhquyenso.opendata.models import Dataset, DatasetStatus, DatasetVersion, Resource
from chinhquyenso.org.models import Agency, AgencyKind

UNTIL = dt.date(2025, 12, 31)
PERIOD_END = dt.date(2024, 9, 30)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    test_settings = override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("files"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Its own checkpoint file: another module's demo, rolled back, left its chain's last checkpoint in the
        # session's folder, which this province's audit chain does not continue.
        AUDIT_CHECKPOINT_DIR=tmp_path_factory.mktemp("audit-checkpoints"),
    )
    with django_db_blocker.unblock(), test_settings:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            out, err = StringIO(), StringIO()
            call_command(
                "seed_demo",
                dossiers=0,
                until=UNTIL,
                no_documents=True,
                no_persons=True,
                no_pests=True,
                stdout=out,
                stderr=err,
            )
            yield {"output": out.getvalue(), "errors": err.getvalue(), "media": test_settings.options["MEDIA_ROOT"]}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(seeded, settings, db):
    settings.MEDIA_ROOT = seeded["media"]  # the autouse fixture gives each test its own empty folder
    return seeded


def read(resource: Resource) -> bytes:
    with resource.file.file.open("rb") as handle:
        return handle.read()


def test_seed_demo_says_what_it_published(demo):
    assert demo["errors"] == ""
    output = demo["output"]
    assert "Dữ liệu mở (" in output and "179 bộ dữ liệu của các cơ quan công bố đến 30/09/2024" in output
    assert "chưa công bố: Sở Ngoại vụ, UBND huyện Tri Tôn" in output


def test_179_of_the_188_counted_agencies_publish_at_the_end_of_seed_001s_period(demo):
    figures = publishing_figures(PERIOD_END)
    assert (figures.numerator, figures.denominator) == (179, 188)
    assert format_ratio(figures.numerator, figures.denominator, 1) == "95,2%"  # the report printed 94,2%
    kinds = [row.agency.kind for row in figures.counted]
    assert kinds.count(AgencyKind.DISTRICT_COMMITTEE) == 11 and kinds.count(AgencyKind.COMMUNE_COMMITTEE) == 156
    silent = {row.agency.code for row in figures.not_publishing}
    assert silent == set(demo_opendata.scenario()["not_publishing"]["agencies"])
    # Before the period nothing of it was public yet: the figure follows the datasets' dated history.
    assert publishing_figures(dt.date(2023, 12, 31)).numerator == 0


def test_the_2024_datasets_were_drafted_submitted_and_approved_inside_the_period(demo):
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2024, 10, 1, tzinfo=dt.UTC)
    dated = Dataset.objects.filter(published_at__gte=start, published_at__lt=end)
    assert dated.count() == 179 and not dated.exclude(status=DatasetStatus.PUBLIC).exists()
    versions = DatasetVersion.objects.filter(dataset__in=dated)
    assert not versions.filter(at__gte=end).exists()
    assert set(versions.values_list("status", flat=True)) >= {DatasetStatus.DRAFT, DatasetStatus.SUBMITTED}
    # Every one has a small CSV file loaded into the DataStore.
    files = Resource.objects.filter(dataset__in=dated)
    assert files.values("dataset").distinct().count() == 179
    assert not files.exclude(format="CSV").exists() and not files.filter(datastore_table="").exists()


def test_the_live_datasets_are_public_and_published_by_the_province(demo):
    live = Dataset.objects.exclude(generator="")
    assert live.exists() and not live.exclude(status=DatasetStatus.PUBLIC).exists()
    province = Agency.objects.current().get(kind=AgencyKind.PROVINCE_COMMITTEE)
    assert set(live.values_list("agency", flat=True)) == {province.pk}
    assert Resource.objects.filter(dataset__in=live).exists()


def test_the_windows_1258_file_reads_with_its_diacritics(demo):
    dataset = Dataset.objects.get(title="Danh sách cơ sở khám bệnh, chữa bệnh công lập")
    [resource] = dataset.resources.all()
    data = read(resource)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really the legacy code page, tone marks as combining characters
    table = tabular.read_table(data, resource.format)
    assert "1258" in table.encoding
    assert table.header == ["Tên cơ sở", "Loại hình", "Địa bàn", "Giường bệnh kế hoạch"]
    preview = datastore.preview(resource)
    names = [record["Tên cơ sở"] for record in preview["records"]]
    assert "Bệnh viện Mắt - Tai Mũi Họng - Răng Hàm Mặt An Giang" in names


def test_todays_leaders_have_datasets_to_approve(demo):
    from chinhquyenso.opendata.services import datasets

    waiting = Dataset.objects.filter(status=DatasetStatus.SUBMITTED)
    assert waiting.count() == 2 and Dataset.objects.filter(status=DatasetStatus.DRAFT).count() == 1
    assert all(dataset.agency.is_current for dataset in waiting)
    # The demo account a visitor is shown for the department (its leader) approves one.
    dataset = waiting.get(agency=services._agency("so-tu-phap", "test"))
    leader = services.User.objects.get(username=f"so-tu-phap.{services.ROLE_SUFFIX[services.Role.LEADER]}")
    datasets.approve(dataset, actor=leader)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PUBLIC


def test_no_demo_person_is_named_in_a_published_file(demo):
    people = set(services.User.objects.exclude(full_name="").values_list("full_name", flat=True))
    for resource in Resource.objects.filter(dataset__generator=""):
        text = read(resource).decode("utf-8-sig", errors="replace")
        assert not any(person in text for person in people), resource.name


def test_the_indicator_reads_179_of_188_for_the_first_nine_months_of_2024(demo):
    out = StringIO()
    call_command("kpi", period="2024-9M", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if "dữ liệu mở" in line)
    assert "95,2%" in line and "179/188" in line, line


def test_windows_1258_writes_tone_marks_as_combining_characters():
    text = "Bệnh viện Mắt - Tai Mũi Họng, huyện Thoại Sơn, Ô Long Vỹ"
    data = demo_opendata.to_windows_1258(text)
    assert "\u0323" in data.decode("cp1258")  # "ệ" is "ê" and a combining dot below, as legacy software writes it
    assert unicodedata.normalize("NFC", data.decode("cp1258")) == text

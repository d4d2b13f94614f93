"""The publishing figure (opendata.figures): which agencies count, which publish on a day (from the
datasets' version history, so a past day's figure holds after a withdrawal), a predecessor's datasets
counted for its successor, and datasets late against their frequency."""

import datetime as dt

import pytest
from django.utils import timezone

from chinhquyenso.opendata.figures import is_late, publishing_figures
from chinhquyenso.opendata.models import DatasetVersion
from chinhquyenso.org import services as org
from chinhquyenso.org.models import AgencyKind

pytestmark = pytest.mark.django_db


def rows_by_code(figures):
    return {row.agency.code: row for row in figures.rows}


def test_counted_agencies_are_the_provinces_departments_districts_and_communes(province, admin_user):
    # A neighbouring province the platform knows (before a merger) is not the province's.
    neighbour = org.create_agency(
        actor=admin_user, name="UBND tỉnh Kiên Giang", kind=AgencyKind.PROVINCE_COMMITTEE, code="ubnd-kien-giang"
    )
    org.create_agency(
        actor=admin_user, name="Sở Y tế", kind=AgencyKind.DEPARTMENT, parent=neighbour, code="so-y-te-kien-giang"
    )
    figures = publishing_figures()
    assert {row.agency.code for row in figures.counted} == {
        "so-tu-phap",
        "cong-an-tinh",
        "ubnd-cho-moi",
        "xa-kien-an",
        "xa-kien-thanh",
    }
    assert (figures.numerator, figures.denominator) == (0, 5)


def test_an_agency_publishes_with_a_public_dataset_only(province, officers, public_dataset, make_dataset):
    make_dataset(province["xa_a"], officers["xa_a"]["specialist"], status="submitted", title="Chờ duyệt")
    figures = publishing_figures()
    rows = rows_by_code(figures)
    assert (figures.numerator, figures.denominator) == (1, 5)
    assert rows["so-tu-phap"].publishes and rows["so-tu-phap"].public_datasets == 1
    assert not rows["xa-kien-an"].publishes
    assert [row.agency.code for row in figures.not_publishing] == [
        "cong-an-tinh",
        "ubnd-cho-moi",
        "xa-kien-an",
        "xa-kien-thanh",
    ]


def test_a_past_day_keeps_its_figure_after_a_withdrawal(province, officers, public_dataset):
    from chinhquyenso.opendata.services import datasets

    today = timezone.localdate()
    # Published ten days ago, withdrawn today.
    DatasetVersion.objects.filter(dataset=public_dataset).update(at=timezone.now() - dt.timedelta(days=10))
    datasets.withdraw(public_dataset, actor=officers["tu_phap"]["leader"], reason="Có dữ liệu cá nhân")
    assert publishing_figures(today - dt.timedelta(days=5)).numerator == 1
    assert publishing_figures(today - dt.timedelta(days=11)).numerator == 0  # not yet published then
    assert publishing_figures(today).numerator == 0


def test_a_predecessors_dataset_counts_for_its_successor(province, officers, make_dataset, admin_user):
    make_dataset(province["xa_a"], officers["xa_a"]["specialist"], status="public", title="Chợ phiên xã Kiến An")
    DatasetVersion.objects.update(at=timezone.now() - dt.timedelta(days=30))
    merged_on = timezone.localdate() - dt.timedelta(days=3)
    new = org.merge(
        actor=admin_user,
        sources=[province["xa_a"], province["xa_b"]],
        name="UBND xã Kiến An mới",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        parent=province["huyen"],
        effective_date=merged_on,
    )
    before = publishing_figures(merged_on - dt.timedelta(days=1))
    assert rows_by_code(before)["xa-kien-an"].publishes and before.denominator == 5
    after = publishing_figures()
    rows = rows_by_code(after)
    assert rows[new.code].publishes and rows[new.code].public_datasets == 1
    assert (after.numerator, after.denominator) == (1, 4)


def test_late_datasets_against_their_frequency(province, officers, public_dataset):
    public_dataset.frequency = "MONTHLY"
    public_dataset.data_updated_at = timezone.now() - dt.timedelta(days=40)
    public_dataset.save()
    assert is_late(public_dataset, timezone.localdate())
    assert [d.pk for d in publishing_figures().late_datasets] == [public_dataset.pk]
    public_dataset.data_updated_at = timezone.now() - dt.timedelta(days=10)
    assert not is_late(public_dataset, timezone.localdate())
    public_dataset.frequency = "IRREG"
    public_dataset.data_updated_at = timezone.now() - dt.timedelta(days=4000)
    assert not is_late(public_dataset, timezone.localdate())

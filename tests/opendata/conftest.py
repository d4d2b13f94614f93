"""Shared by the open-data tests (services, CKAN API, DCAT, pages, figures, live datasets): the
vocabularies, a dataset factory, a public dataset with one CSV resource and a CSV maker. Other test
modules of tests/opendata rely on these names and signatures: keep them stable."""

from __future__ import annotations

import pytest

SAMPLE_HEADER = ["Mã xã", "Tên xã", "Năm", "Số ca đăng ký khai sinh"]
SAMPLE_ROWS = [
    ["30280", "Kiến An", "2024", "412"],
    ["30283", "Kiến Thành", "2024", "389"],
    ["30286", "Mỹ Hội Đông", "2024", "276"],
]


def make_csv(header=None, rows=None, *, bom: bool = True, delimiter: str = ",") -> bytes:
    """A small CSV file (UTF-8, with a BOM by default)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(SAMPLE_HEADER if header is None else header)
    writer.writerows(SAMPLE_ROWS if rows is None else rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


@pytest.fixture
def csv_bytes():
    """csv_bytes(header=None, rows=None, *, bom=True, delimiter=",") -> bytes; with no arguments a
    4-column, 3-row table of births by commune."""
    return make_csv


@pytest.fixture
def licences_and_themes(db):
    """The shipped licences and themes (a transactional test's flush empties what migration 0002 added)."""
    from chinhquyenso.opendata.vocabularies import load

    load()


def leader_of(agency):
    """A leader of `agency` (one of the `officers` fixture's when there is one, else a new account)."""
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import Membership, Role

    membership = Membership.objects.filter(agency=agency, role=Role.LEADER).select_related("user").first()
    if membership is not None:
        return membership.user
    return accounts.create_officer(
        actor=None,
        username=f"lanh-dao-{agency.pk}",
        password="Mat-khau-2025",
        full_name="Lãnh đạo cơ quan",
        memberships=[(agency, Role.LEADER)],
    )


@pytest.fixture
def make_dataset(licences_and_themes):
    """make_dataset(agency, actor, *, status="draft", resources=(), **fields) -> Dataset.

    `fields` are create_dataset's (title defaults to "Bộ dữ liệu thử"); `status` "submitted" submits it,
    "public" also has a leader of the agency approve it, "withdrawn" then withdraws it; `resources`:
    bytes (or (filename, bytes)) added before submitting."""
    from chinhquyenso.opendata.services import datasets, resources

    def make(agency, actor, *, status: str = "draft", resources=(), **fields):  # noqa: A002 — the fixture's name
        fields.setdefault("title", "Bộ dữ liệu thử")
        dataset = datasets.create_dataset(actor=actor, agency=agency, fields=fields)
        for item in resources:
            filename, data = item if isinstance(item, tuple) else ("", item)
            add_resource(dataset, actor=actor, data=data, filename=filename)
        if status in ("submitted", "public", "withdrawn"):
            datasets.submit(dataset, actor=actor)
        if status in ("public", "withdrawn"):
            datasets.approve(dataset, actor=leader_of(agency))
        if status == "withdrawn":
            datasets.withdraw(dataset, actor=leader_of(agency), reason="Thử rút bộ dữ liệu")
        dataset.refresh_from_db()
        return dataset

    add_resource = resources.add_resource
    return make


@pytest.fixture
def public_dataset(province, officers, make_dataset):
    """A public dataset of province["tu_phap"] (Sở Tư pháp), theme "tu-phap", two keywords, one CSV
    resource (make_csv(): 3 rows, loaded into the DataStore); drafted by its specialist, approved by its
    leader."""
    return make_dataset(
        province["tu_phap"],
        officers["tu_phap"]["specialist"],
        status="public",
        resources=[("khai-sinh-2024.csv", make_csv())],
        title="Số ca đăng ký khai sinh theo xã năm 2024",
        description="Số ca đăng ký khai sinh tại các xã trong tỉnh, theo năm đăng ký.",
        themes=["tu-phap"],
        tags=["hộ tịch", "khai sinh"],
        frequency="ANNUAL",
        temporal_start="2024-01-01",
        temporal_end="2024-12-31",
        spatial="Tỉnh An Giang",
        spatial_code="89",
        contact_name="Phòng Hành chính tư pháp",
        contact_email="hctp@sotuphap.angiang.gov.vn",
    )

"""Resources: uploads checked by content, tables loaded into the DataStore in the same transaction,
a version and an audit record per change; generated tables (CSV with BOM and XLSX, formula-like
cells neutralized) rewritten only when they changed."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from chinhquyenso.core.errors import DomainError, PayloadTooLarge, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.opendata.models import Resource
from chinhquyenso.opendata.services import datasets, resources


@pytest.fixture
def draft(province, officers, make_dataset):
    return make_dataset(province["tu_phap"], officers["tu_phap"]["specialist"], title="Khai sinh")


def test_a_csv_is_stored_loaded_and_versioned(draft, officers, csv_bytes):
    specialist = officers["tu_phap"]["specialist"]
    upload = SimpleUploadedFile("khai-sinh.csv", csv_bytes(), content_type="application/octet-stream")
    resource = resources.add_resource(draft, actor=specialist, data=upload, description="Số liệu 2024")
    assert resource.format == "CSV" and resource.name == "khai-sinh.csv"
    assert resource.file.content_type == "text/csv" and resource.file.original_name == "khai-sinh.csv"
    assert resource.row_count == 3 and resource.datastore_active
    assert [f["id"] for f in resource.datastore_fields][:2] == ["Mã xã", "Tên xã"]
    draft.refresh_from_db()
    assert draft.data_updated_at is not None and draft.revision == 2
    snapshot = draft.versions.get(number=2).snapshot
    assert snapshot["resources"] == [
        {
            "id": resource.pk,
            "name": "khai-sinh.csv",
            "format": "CSV",
            "sha256": resource.file.sha256,
            "size": resource.file.size,
        }
    ]
    record = AuditRecord.objects.get(action="opendata.add_resource")
    assert record.after["sha256"] == resource.file.sha256 and record.after["format"] == "CSV"


def test_the_declared_format_must_match_the_content(draft, officers, csv_bytes):
    with pytest.raises(DomainError) as refused:
        resources.add_resource(draft, actor=officers["tu_phap"]["specialist"], data=csv_bytes(), format="xlsx")
    assert refused.value.field == "format"
    with pytest.raises(DomainError) as unknown:
        resources.add_resource(draft, actor=officers["tu_phap"]["specialist"], data=csv_bytes(), format="docx")
    assert unknown.value.field == "format"
    resource = resources.add_resource(draft, actor=officers["tu_phap"]["specialist"], data=csv_bytes(), format="csv")
    assert resource.format == "CSV"


def test_refused_files(draft, officers, settings):
    specialist = officers["tu_phap"]["specialist"]
    with pytest.raises(DomainError) as empty:
        resources.add_resource(draft, actor=specialist, data=b"")
    assert empty.value.field == "file"
    with pytest.raises(DomainError) as program:
        resources.add_resource(draft, actor=specialist, data=b"MZ\x90\x00" + b"\x00" * 100, filename="a.exe")
    assert program.value.field == "file"
    settings.CQS = {**settings.CQS, "OPENDATA_UPLOAD_MAX_BYTES": 1024}
    big = SimpleUploadedFile("lon.csv", b"a,b\r\n" * 1000)
    with pytest.raises(PayloadTooLarge):
        resources.add_resource(draft, actor=specialist, data=big)

    class Streamed(io.BytesIO):  # a file object that does not declare its size
        pass

    with pytest.raises(PayloadTooLarge):
        resources.add_resource(draft, actor=specialist, data=Streamed(b"a,b\r\n" * 1000))
    assert not Resource.objects.exists() and draft.revision == 1


def test_a_table_that_cannot_be_read_is_refused_whole(draft, officers):
    bad = "Mã,Tên\r\n1,a,thừa cột\r\n".encode()
    with pytest.raises(DomainError) as refused:
        resources.add_resource(draft, actor=officers["tu_phap"]["specialist"], data=bad)
    assert refused.value.field == "file"
    assert not Resource.objects.exists()
    draft.refresh_from_db()
    assert draft.revision == 1 and draft.data_updated_at is None


def test_other_formats_are_published_without_a_table(draft, officers):
    specialist = officers["tu_phap"]["specialist"]
    geojson = b'{"type": "FeatureCollection", "features": []}'
    resource = resources.add_resource(draft, actor=specialist, data=geojson, name="Ranh giới")
    assert resource.format == "GeoJSON" and not resource.datastore_active
    assert resource.file.content_type == "application/geo+json"
    pdf = resources.add_resource(draft, actor=specialist, data=b"%PDF-1.4\n%%EOF\n", name="Mô tả")
    assert pdf.format == "PDF" and pdf.position > resource.position


def test_replace_and_delete(draft, officers, csv_bytes):
    specialist = officers["tu_phap"]["specialist"]
    resource = resources.add_resource(draft, actor=specialist, data=csv_bytes())
    resources.update_resource(resource, actor=specialist, data=csv_bytes())
    draft.refresh_from_db()
    assert draft.revision == 2  # the same bytes: nothing changed
    rows = [["1", "A", "2025", "5"]]
    replaced = resources.update_resource(resource, actor=specialist, data=csv_bytes(rows=rows))
    assert replaced.pk == resource.pk and replaced.row_count == 1
    draft.refresh_from_db()
    assert draft.versions.get(number=3).action == "update_resource"
    table = replaced.datastore_table
    resources.delete_resource(replaced, actor=specialist)
    assert not Resource.objects.exists()
    draft.refresh_from_db()
    assert draft.revision == 4
    assert draft.versions.get(number=4).snapshot["resources"] == []
    assert table and AuditRecord.objects.filter(action="opendata.delete_resource").exists()


def test_update_changes_file_and_texts_in_one_version(draft, officers, csv_bytes):
    specialist = officers["tu_phap"]["specialist"]
    resource = resources.add_resource(draft, actor=specialist, data=csv_bytes(), name="Khai sinh")
    updated = resources.update_resource(
        resource,
        actor=specialist,
        data=csv_bytes(rows=[["1", "A", "2025", "5"]]),
        name="Khai sinh 2025",
        description="Số liệu\nnăm 2025",
    )
    assert (updated.name, updated.description, updated.row_count) == ("Khai sinh 2025", "Số liệu\nnăm 2025", 1)
    draft.refresh_from_db()
    assert draft.revision == 3
    version = draft.versions.get(number=3)
    assert version.action == "update_resource" and version.snapshot["resources"][0]["name"] == "Khai sinh 2025"
    audit = AuditRecord.objects.filter(action="opendata.update_resource").get()
    assert audit.after["changed"] == ["file", "name", "description"]
    # Texts only: the file and its table stay, one more version.
    renamed = resources.update_resource(updated, actor=specialist, name="Khai sinh năm 2025")
    assert renamed.name == "Khai sinh năm 2025" and renamed.file_id == updated.file_id
    draft.refresh_from_db()
    assert draft.revision == 4
    # The same texts again: nothing is written.
    resources.update_resource(renamed, actor=specialist, name="Khai sinh năm 2025", description="Số liệu\nnăm 2025")
    draft.refresh_from_db()
    assert draft.revision == 4


def test_update_refuses_another_format_and_bad_texts(draft, officers, csv_bytes):
    specialist = officers["tu_phap"]["specialist"]
    resource = resources.add_resource(draft, actor=specialist, data=csv_bytes())
    with pytest.raises(DomainError) as refused:
        resources.update_resource(resource, actor=specialist, data=b"%PDF-1.4\n%%EOF\n")
    assert refused.value.field == "file" and "CSV" in refused.value.message
    with pytest.raises(DomainError) as refused:
        resources.update_resource(resource, actor=specialist, format="pdf")
    assert refused.value.field == "format"
    with pytest.raises(DomainError) as refused:
        resources.update_resource(resource, actor=specialist, name="  ")
    assert refused.value.field == "name"
    with pytest.raises(DomainError) as refused:
        resources.update_resource(resource, actor=specialist, description="a\x00b")
    assert refused.value.field == "description"
    with pytest.raises(DomainError) as refused:
        resources.update_resource(resource, actor=specialist, data=b"a,b\n1,2,3\n")
    assert refused.value.field == "file"
    draft.refresh_from_db()
    assert draft.revision == 2 and Resource.objects.get().row_count == 3


def test_update_of_a_withdrawn_dataset_is_refused(province, officers, make_dataset, csv_bytes):
    specialist = officers["tu_phap"]["specialist"]
    dataset = make_dataset(province["tu_phap"], specialist, status="withdrawn", resources=[csv_bytes()])
    with pytest.raises(DomainError) as refused:
        resources.update_resource(dataset.resources.get(), actor=specialist, name="Tên mới")
    assert refused.value.field == "status"
    with pytest.raises(PermissionDenied):
        resources.update_resource(dataset.resources.get(), actor=officers["cong_an"]["specialist"], name="Tên mới")


def test_who_may_change_resources(draft, officers, csv_bytes, admin_user):
    for actor in (officers["cong_an"]["specialist"], admin_user):
        with pytest.raises(PermissionDenied):
            resources.add_resource(draft, actor=actor, data=csv_bytes())
    resource = resources.add_resource(draft, actor=officers["tu_phap"]["clerk"], data=csv_bytes())
    with pytest.raises(PermissionDenied):
        resources.delete_resource(resource, actor=officers["xa_a"]["leader"])


def test_a_public_dataset_takes_new_resources_at_once(public_dataset, officers, csv_bytes):
    resource = resources.add_resource(
        public_dataset, actor=officers["tu_phap"]["specialist"], data=csv_bytes(rows=[["1", "A", "2025", "1"]])
    )
    public_dataset.refresh_from_db()
    assert public_dataset.status == "public" and public_dataset.resources.count() == 2
    assert resource.position == 1


def test_a_withdrawn_dataset_takes_no_resources(public_dataset, officers, admin_user, csv_bytes):
    datasets.withdraw(public_dataset, actor=admin_user, reason="Nhầm")
    with pytest.raises(DomainError) as refused:
        resources.add_resource(public_dataset, actor=officers["tu_phap"]["specialist"], data=csv_bytes())
    assert refused.value.field == "status"


# ---------------------------------------------------------------- generated tables


def test_generated_tables_are_csv_and_xlsx_and_rewritten_only_when_changed(province, licences_and_themes):
    dataset = datasets.publish_generated(
        agency=province["ubnd"], generator="ho-so", fields={"title": "Hồ sơ theo tháng", "frequency": "MONTHLY"}
    )
    header = ["Tháng", "Lĩnh vực", "Số hồ sơ"]
    rows = [["2025-01", "Hộ tịch", 120], ["2025-01", '=HYPERLINK("http://x")', 3], ["2025-02", "Đất đai", None]]
    csv_resource, xlsx_resource = resources.put_generated(
        dataset, key="theo-thang", name="Hồ sơ theo tháng", header=header, rows=rows
    )
    content = csv_resource.file.file.open("rb").read()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0] == "Tháng,Lĩnh vực,Số hồ sơ"
    assert "'=HYPERLINK" in text and "2025-02,Đất đai,\r\n" in text
    assert csv_resource.row_count == 3 and csv_resource.datastore_active
    assert xlsx_resource.format == "XLSX" and not xlsx_resource.datastore_active
    sheet = load_workbook(xlsx_resource.file.file.open("rb")).active
    cell = sheet.cell(row=3, column=2)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    dataset.refresh_from_db()
    revision = dataset.revision
    assert dataset.data_updated_at is not None

    again = resources.put_generated(dataset, key="theo-thang", name="Hồ sơ theo tháng", header=header, rows=rows)
    assert [r.pk for r in again] == [csv_resource.pk, xlsx_resource.pk]
    dataset.refresh_from_db()
    assert dataset.revision == revision  # unchanged: nothing written

    rows.append(["2025-03", "Hộ tịch", 99])
    changed = resources.put_generated(dataset, key="theo-thang", name="Hồ sơ theo tháng", header=header, rows=rows)
    assert [r.pk for r in changed] == [csv_resource.pk, xlsx_resource.pk]  # addresses kept
    assert changed[0].row_count == 4
    dataset.refresh_from_db()
    assert dataset.revision == revision + 1 and dataset.resources.count() == 2
    assert AuditRecord.objects.filter(action="opendata.generate").count() == 2

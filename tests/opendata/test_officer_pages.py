"""The officers' open-data pages (/can-bo/du-lieu-mo/): a specialist drafts a dataset, uploads a CSV
and submits it; the agency's leader finds it first in the list and approves it (or returns it); the
province administrator withdraws one; refusals by role and scope; form errors on the field they name;
CSRF on every form."""

from __future__ import annotations

import re

from django.conf import settings
from django.test import Client
from django.urls import reverse

from chinhquyenso.opendata.models import Dataset, DatasetStatus

CSV = "xã,số điểm wifi\nKiến An,3\nKiến Thành,5\n".encode()


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create(client, province, **fields) -> Dataset:
    data = {"agency": province["tu_phap"].pk, "title": "Điểm wifi công cộng", "themes": ["giao-thong"], **fields}
    response = client.post(reverse("opendata_officer:create"), data)
    assert response.status_code == 302, text_of(response)
    return Dataset.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))


def test_the_workflow_through_the_pages(licences_and_themes, province, officers):
    specialist = as_user(officers["tu_phap"]["specialist"])
    form = specialist.get(reverse("opendata_officer:create"))
    assert form.status_code == 200 and "Tạo bộ dữ liệu mở" in text_of(form)
    dataset = create(
        specialist,
        province,
        tags="wifi, Internet; wifi",
        description="Các điểm phát wifi miễn phí.",
        contact_email="stp@angiang.gov.vn",
    )
    assert dataset.status == DatasetStatus.DRAFT and dataset.name == "diem-wifi-cong-cong"
    assert sorted(t.name for t in dataset.tags.all()) == ["Internet", "wifi"]
    assert [t.code for t in dataset.themes.all()] == ["giao-thong"]

    detail = reverse("opendata_officer:detail", args=[dataset.pk])
    page = specialist.get(detail)
    assert "Tải lên tệp dữ liệu" in text_of(page) and "Trình lãnh đạo duyệt" in text_of(page)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("diem-wifi.csv", CSV, content_type="text/csv")
    response = specialist.post(
        reverse("opendata_officer:upload", args=[dataset.pk]), {"file": upload, "name": "Danh sách điểm wifi"}
    )
    assert response.status_code == 302
    resource = dataset.resources.get()
    assert resource.format == "CSV" and resource.row_count == 2
    assert "Đã tải lên “Danh sách điểm wifi” (CSV, 2 dòng dữ liệu)" in text_of(specialist.get(detail))

    assert specialist.post(reverse("opendata_officer:submit", args=[dataset.pk])).status_code == 302
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.SUBMITTED
    # The specialist cannot approve: no button, and the POST is refused by the service.
    assert "Duyệt và công bố" not in text_of(specialist.get(detail))
    assert specialist.post(reverse("opendata_officer:approve", args=[dataset.pk])).status_code == 403

    leader = as_user(officers["tu_phap"]["leader"])
    listing = text_of(leader.get(reverse("opendata_officer:list")))
    assert listing.index("Chờ bạn duyệt (1)") < listing.index("Điểm wifi công cộng")
    assert "Duyệt và công bố" in text_of(leader.get(detail))
    response = leader.post(reverse("opendata_officer:approve", args=[dataset.pk]))
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PUBLIC and dataset.published_at is not None
    assert "Đã duyệt: bộ dữ liệu được công bố" in text_of(leader.get(detail))
    assert Client().get(reverse("opendata:dataset", args=[dataset.name])).status_code == 200


def test_leader_returns_with_a_reason(licences_and_themes, province, officers):
    specialist = as_user(officers["tu_phap"]["specialist"])
    dataset = create(specialist, province)
    specialist.post(reverse("opendata_officer:submit", args=[dataset.pk]))
    leader = as_user(officers["tu_phap"]["leader"])
    response = leader.post(reverse("opendata_officer:return", args=[dataset.pk]), {"reason": ""})
    assert response.status_code == 302
    assert "Hãy ghi lý do" in text_of(leader.get(reverse("opendata_officer:detail", args=[dataset.pk])))
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.SUBMITTED
    leader.post(reverse("opendata_officer:return", args=[dataset.pk]), {"reason": "Bổ sung mô tả"})
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.DRAFT


def test_province_admin_withdraws_a_public_dataset(licences_and_themes, province, officers, admin_user):
    specialist = as_user(officers["tu_phap"]["specialist"])
    dataset = create(specialist, province)
    specialist.post(reverse("opendata_officer:submit", args=[dataset.pk]))
    as_user(officers["tu_phap"]["leader"]).post(reverse("opendata_officer:approve", args=[dataset.pk]))
    admin = as_user(admin_user)
    assert "Rút bộ dữ liệu" in text_of(admin.get(reverse("opendata_officer:detail", args=[dataset.pk])))
    admin.post(reverse("opendata_officer:withdraw", args=[dataset.pk]), {"reason": "Lộ dữ liệu cá nhân"})
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.WITHDRAWN and dataset.withdrawn_reason == "Lộ dữ liệu cá nhân"
    assert "Lộ dữ liệu cá nhân" in text_of(Client().get(reverse("opendata:dataset", args=[dataset.name])))


def test_another_agency_and_citizens_are_refused(licences_and_themes, province, officers, citizen):
    dataset = create(as_user(officers["tu_phap"]["specialist"]), province)
    other = as_user(officers["xa_a"]["specialist"])
    assert other.get(reverse("opendata_officer:detail", args=[dataset.pk])).status_code == 404
    assert other.post(reverse("opendata_officer:submit", args=[dataset.pk])).status_code == 404
    assert other.get(reverse("opendata_officer:edit", args=[dataset.pk])).status_code == 404
    # The other agency's leader cannot approve either, even once it is submitted.
    as_user(officers["tu_phap"]["specialist"]).post(reverse("opendata_officer:submit", args=[dataset.pk]))
    assert as_user(officers["xa_a"]["leader"]).post(
        reverse("opendata_officer:approve", args=[dataset.pk])
    ).status_code in (403, 404)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.SUBMITTED
    assert as_user(citizen).get(reverse("opendata_officer:list")).status_code == 403
    anonymous = Client().get(reverse("opendata_officer:list"))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(settings.LOGIN_URL)


def test_read_only_auditor_may_look_but_not_create(licences_and_themes, province, officers):
    from chinhquyenso.accounts import services as accounts
    from chinhquyenso.accounts.models import GlobalRole

    auditor = accounts.create_officer(
        actor=None, username="kiem-tra", password="Mat-khau-2025", full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )
    dataset = create(as_user(officers["tu_phap"]["specialist"]), province)
    client = as_user(auditor)
    assert client.get(reverse("opendata_officer:list")).status_code == 200
    page = client.get(reverse("opendata_officer:detail", args=[dataset.pk]))
    assert page.status_code == 200 and "Trình lãnh đạo duyệt" not in text_of(page)
    assert client.get(reverse("opendata_officer:create")).status_code == 403
    assert client.post(reverse("opendata_officer:submit", args=[dataset.pk])).status_code == 403


def test_form_errors_name_their_fields(licences_and_themes, province, officers):
    specialist = as_user(officers["tu_phap"]["specialist"])
    url = reverse("opendata_officer:create")
    empty = specialist.post(url, {"agency": province["tu_phap"].pk, "title": ""})
    assert empty.status_code == 400
    assert re.search(r'id="loi-title">Hãy nhập tên bộ dữ liệu', empty.content.decode())
    bad = specialist.post(
        url,
        {
            "agency": province["tu_phap"].pk,
            "title": "Bộ dữ liệu",
            "contact_email": "không-phải-thư",
            "temporal_start": "2025-13-40",
        },
    )
    assert bad.status_code == 400
    body = bad.content.decode()
    assert 'id="loi-contact_email"' in body or 'id="loi-temporal_start"' in body
    assert 'value="Bộ dữ liệu"' in body  # what was typed comes back
    wrong_choice = specialist.post(url, {"agency": province["xa_a"].pk, "title": "X", "licence": "khong-co"})
    assert 'id="loi-agency"' in wrong_choice.content.decode() and 'id="loi-licence"' in wrong_choice.content.decode()
    name_taken = specialist.post(url, {"agency": province["tu_phap"].pk, "title": "Y", "name": "Tên Có Dấu"})
    assert name_taken.status_code == 400 and 'id="loi-name"' in name_taken.content.decode()
    assert Dataset.objects.count() == 0


def test_an_upload_refused_shows_on_the_file_field(licences_and_themes, province, officers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    specialist = as_user(officers["tu_phap"]["specialist"])
    dataset = create(specialist, province)
    url = reverse("opendata_officer:upload", args=[dataset.pk])
    missing = specialist.post(url, {"name": "Không có tệp"})
    assert missing.status_code == 400 and 'id="loi-file"' in missing.content.decode()
    program = SimpleUploadedFile("chay.exe", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4)
    refused = specialist.post(url, {"file": program})
    assert refused.status_code == 400 and 'id="loi-file"' in refused.content.decode()
    assert dataset.resources.count() == 0


def test_edit_keeps_a_public_dataset_public(licences_and_themes, province, officers):
    specialist = as_user(officers["tu_phap"]["specialist"])
    dataset = create(specialist, province)
    specialist.post(reverse("opendata_officer:submit", args=[dataset.pk]))
    as_user(officers["tu_phap"]["leader"]).post(reverse("opendata_officer:approve", args=[dataset.pk]))
    edit = reverse("opendata_officer:edit", args=[dataset.pk])
    form = specialist.get(edit)
    assert 'value="Điểm wifi công cộng"' in form.content.decode()
    response = specialist.post(edit, {"title": "Điểm wifi công cộng miễn phí", "themes": ["giao-thong"]})
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.title == "Điểm wifi công cộng miễn phí" and dataset.status == DatasetStatus.PUBLIC


def test_forms_need_the_csrf_token(licences_and_themes, province, officers):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officers["tu_phap"]["specialist"])
    page = client.get(reverse("opendata_officer:create"))
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    response = client.post(reverse("opendata_officer:create"), {"agency": province["tu_phap"].pk, "title": "X"})
    assert response.status_code == 403
    assert Dataset.objects.count() == 0


def test_officers_menu_links_to_the_pages(licences_and_themes, officers):
    body = as_user(officers["tu_phap"]["specialist"]).get(reverse("opendata_officer:list")).content.decode()
    assert f'<a href="{reverse("opendata_officer:list")}">Dữ liệu mở</a>' in body


# ---------------------------------------------------------------- replacing and deleting a resource


def _replace(client, dataset, resource, data: bytes, filename: str = "moi.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("opendata_officer:resource_replace", args=[dataset.pk, resource.pk])
    return client.post(url, {"file": SimpleUploadedFile(filename, data, content_type="text/csv")})


def test_replace_a_resource_file(public_dataset, officers, csv_bytes):
    dataset = public_dataset
    resource = dataset.resources.get()
    specialist = as_user(officers["tu_phap"]["specialist"])
    detail = reverse("opendata_officer:detail", args=[dataset.pk])
    page = text_of(specialist.get(detail))
    assert "Thay tệp" in page and f"Xóa tài nguyên “{resource.name}”" in page
    revision = dataset.revision

    new = csv_bytes(rows=[["30289", "Phú Hữu Mới", "2025", "501"]])
    response = _replace(specialist, dataset, resource, new)
    assert response.status_code == 302 and response["Location"] == detail
    dataset.refresh_from_db()
    assert dataset.revision == revision + 1 and dataset.status == DatasetStatus.PUBLIC
    assert dataset.versions.get(number=dataset.revision).action == "update_resource"
    assert f"Đã thay tệp của “{resource.name}” (CSV, 1 dòng dữ liệu)" in text_of(specialist.get(detail))
    public = text_of(Client().get(reverse("opendata:dataset", args=[dataset.name])))
    assert "Phú Hữu Mới" in public and "Kiến Thành" not in public
    assert dataset.resources.get().pk == resource.pk  # the address stays

    # Another format: refused on that resource's file field, nothing written.
    refused = _replace(specialist, dataset, resource, b"%PDF-1.4\n%%EOF\n", "mo-ta.pdf")
    assert refused.status_code == 400
    assert f'id="loi-thay-{resource.pk}"' in refused.content.decode()
    missing = specialist.post(reverse("opendata_officer:resource_replace", args=[dataset.pk, resource.pk]), {})
    assert missing.status_code == 400 and f'id="loi-thay-{resource.pk}"' in missing.content.decode()
    dataset.refresh_from_db()
    assert dataset.revision == revision + 1


def test_delete_a_resource(licences_and_themes, province, officers, make_dataset, csv_bytes):
    specialist = officers["tu_phap"]["specialist"]
    dataset = make_dataset(province["tu_phap"], specialist, resources=[("a.csv", csv_bytes())])
    resource = dataset.resources.get()
    client = as_user(specialist)
    url = reverse("opendata_officer:resource_delete", args=[dataset.pk, resource.pk])
    assert client.get(url).status_code == 405  # POST only
    response = client.post(url)
    assert response.status_code == 302
    assert not dataset.resources.exists()
    page = text_of(client.get(reverse("opendata_officer:detail", args=[dataset.pk])))
    assert "Đã xóa tài nguyên “a.csv”" in page and "Chưa có tệp nào" in page
    assert client.post(url).status_code == 404  # already gone


def test_resource_pages_refuse_others(licences_and_themes, province, officers, make_dataset, csv_bytes):
    dataset = make_dataset(province["tu_phap"], officers["tu_phap"]["specialist"], resources=[csv_bytes()])
    resource = dataset.resources.get()
    replace = reverse("opendata_officer:resource_replace", args=[dataset.pk, resource.pk])
    delete = reverse("opendata_officer:resource_delete", args=[dataset.pk, resource.pk])
    other = as_user(officers["xa_a"]["specialist"])
    assert _replace(other, dataset, resource, csv_bytes(rows=[])).status_code == 404
    assert other.post(delete).status_code == 404
    for url in (replace, delete):
        anonymous = Client().post(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(settings.LOGIN_URL)
    # A resource of another dataset is not found through this one.
    second = make_dataset(province["tu_phap"], officers["tu_phap"]["specialist"], title="Khác", resources=[csv_bytes()])
    client = as_user(officers["tu_phap"]["specialist"])
    wrong = reverse("opendata_officer:resource_delete", args=[dataset.pk, second.resources.get().pk])
    assert client.post(wrong).status_code == 404
    assert dataset.resources.count() == 1 and second.resources.count() == 1


def test_a_withdrawn_datasets_resources_are_refused_with_a_message(
    licences_and_themes, province, officers, make_dataset, csv_bytes
):
    specialist = officers["tu_phap"]["specialist"]
    dataset = make_dataset(province["tu_phap"], specialist, status="withdrawn", resources=[csv_bytes()])
    resource = dataset.resources.get()
    client = as_user(specialist)
    detail = reverse("opendata_officer:detail", args=[dataset.pk])
    assert "Thay tệp" not in text_of(client.get(detail))  # not offered
    revision = dataset.revision
    response = _replace(client, dataset, resource, csv_bytes(rows=[["1", "A", "2025", "1"]]))
    assert response.status_code == 302 and response["Location"] == detail
    assert "Thay tệp: Không thể" in text_of(client.get(detail))
    response = client.post(reverse("opendata_officer:resource_delete", args=[dataset.pk, resource.pk]))
    assert response.status_code == 302
    assert "Xóa tài nguyên: Không thể" in text_of(client.get(detail))
    dataset.refresh_from_db()
    assert dataset.revision == revision and dataset.resources.count() == 1

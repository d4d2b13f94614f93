"""The farmers' pages (no account, phones) and the experts' pages: sending photos, the result page by
its private link, "Gửi chuyên gia", the expert's queue and confirmation, the accuracy page — and who may
read a farmer's photos."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chinhquyenso.accounts import services as accounts
from chinhquyenso.core.throttle import RateLimited
from chinhquyenso.pests.models import Identification
from chinhquyenso.pests.services import identification as service
from chinhquyenso.pests.views.identify import SUBMISSIONS
from tests.pests import identify_fixtures
from tests.pests.conftest import PASSWORD
from tests.pests.onnx_models import photo

tiny_model = identify_fixtures.tiny_model  # fixtures shared by the identification tests
expert = identify_fixtures.expert
FORM = "/sau-benh/nhan-dang/"


def upload(colour, name="anh.jpg", fmt="JPEG"):
    return SimpleUploadedFile(name, photo(colour, fmt=fmt), content_type="image/jpeg")


def login(client, user):
    client.force_login(user)
    return client


def send(client, *photos, **fields):
    data = {"client_id": str(uuid.uuid4()), "photos": list(photos), **fields}
    return client.post(FORM, data)


def test_the_form_for_phones(pest_catalog, pest_area, client, settings):
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": ""}
    page = client.get(FORM).content.decode()
    assert 'accept="image/*" capture="environment"' in page and 'name="client_id"' in page
    assert "Xã Kiến An" in page or "xã Kiến An" in page
    assert "Hiện chưa có nhận dạng tự động" in page  # said plainly when no model is configured
    assert "<script>" not in page and "style=" not in page
    assert 'href="/sau-benh/dang-ky/">Nhận tin nhắn cảnh báo sâu bệnh của xã' in page


def test_two_photos_give_an_answer_with_what_to_do(pest_catalog, tiny_model, client):
    response = send(client, upload("red"), upload("red", "b.png", "PNG"), crop="lua")
    assert response.status_code == 302
    identification = Identification.objects.get()
    assert response["Location"] == f"/sau-benh/nhan-dang/{identification.public_id}/"
    page = client.get(response["Location"])
    text = page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    assert "Nhiều khả năng là Rầy nâu (" in text and "%)" in text
    assert "Gieo sạ tập trung" in text  # what to do, from the catalog
    assert "cảnh báo từ 3.000 con/m²" in text and "con/bẫy/đêm" not in text  # what a farmer can count
    assert "Các khả năng khác" in text and "Đạo ôn" in text
    assert "Gửi chuyên gia" in text
    assert identification.crop.code == "lua" and identification.photos.count() == 2


def test_uncertain_photos_are_sent_to_an_expert(pest_catalog, tiny_model, client):
    response = send(client, upload("red"), upload("blue"))
    text = client.get(response["Location"]).content.decode()
    assert "Chưa chắc chắn — ảnh đã được gửi cho chuyên gia; bạn sẽ nhận trả lời tại trang này." in text


def test_without_a_model_the_farmer_is_told_plainly(pest_catalog, client, settings):
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": ""}
    text = client.get(send(client, upload("red"))["Location"]).content.decode()
    assert "Hiện chưa có nhận dạng tự động" in text and "gửi cho chuyên gia" in text


def test_send_to_an_expert_from_the_result_page(pest_catalog, tiny_model, client):
    location = send(client, upload("red"))["Location"]
    identification = Identification.objects.get()
    response = client.post(f"{location}gui-chuyen-gia/")
    assert response.status_code == 302 and response["Location"].endswith("?gui=1")
    identification.refresh_from_db()
    assert identification.sent_to_expert
    assert "Đã gửi ảnh cho chuyên gia" in client.get(response["Location"]).content.decode()


def test_refusals_keep_what_was_typed(pest_catalog, tiny_model, client):
    response = send(client, crop="lua")
    assert response.status_code == 400 and "Hãy chụp hoặc chọn ít nhất một ảnh." in response.content.decode()
    assert '<option value="lua" selected>' in response.content.decode()
    response = send(client, SimpleUploadedFile("x.jpg", b"GIF89a", content_type="image/jpeg"))
    assert response.status_code == 400 and "phải là tệp JPEG hoặc PNG" in response.content.decode()
    response = send(client, upload("red"), phone="0912345678")  # a phone without the tick
    assert response.status_code == 400 and "Nhắn tin cho tôi" in response.content.decode()
    assert not Identification.objects.exists()


def test_a_phone_with_the_tick_is_kept_for_the_answer(pest_catalog, tiny_model, client):
    send(client, upload("purple"), phone="0912 345 678", notify="1")
    assert Identification.objects.get().phone == "0912345678"


def test_submissions_are_throttled_per_address(pest_catalog, tiny_model, client, settings, monkeypatch):
    settings.CQS = {**settings.CQS, "PESTS_IDENTIFY_PER_IP_PER_MINUTE": 2}
    monkeypatch.setattr("chinhquyenso.core.throttle.clock", lambda: 1_000_020.0)
    assert send(client, upload("red")).status_code == 302
    assert send(client, upload("red")).status_code == 302
    refused = send(client, upload("red"))
    assert refused.status_code == 429 and "vui lòng chờ" in refused.content.decode()
    assert Identification.objects.count() == 2
    assert SUBMISSIONS.limit() == 2 and issubclass(RateLimited, Exception)


def test_the_same_form_resent_is_one_request(pest_catalog, tiny_model, client):
    data = {"client_id": str(uuid.uuid4())}
    first = client.post(FORM, {**data, "photos": [upload("red")]})
    again = client.post(FORM, {**data, "photos": [upload("red")]})
    assert first["Location"] == again["Location"] and Identification.objects.count() == 1
    changed = client.post(FORM, {**data, "photos": [upload("blue")]})  # the same form, other photos
    assert changed.status_code == 409 and "đã được gửi trước đó với ảnh khác" in changed.content.decode()
    assert data["client_id"] not in changed.content.decode()  # a fresh key for the next try
    assert Identification.objects.count() == 1


# ---------------------------------------------------------------------- who reads the photos


@pytest.fixture
def farmers_request(pest_catalog, tiny_model, citizen):
    identification = service.submit(photos=[photo("red")], farmer=citizen)
    return identification, identification.photos.get()


def test_the_link_holder_and_the_owner_read_the_photo(farmers_request, client, citizen):
    identification, only = farmers_request
    response = client.get(f"/sau-benh/nhan-dang/{identification.public_id}/anh/{only.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store" and "sandbox" in response["Content-Security-Policy"]
    assert login(client, citizen).get(f"/tep/{only.file.sha256}/").status_code == 200


def test_another_farmer_or_a_plain_officer_cannot(farmers_request, client, pest_officer):
    identification, only = farmers_request
    other = accounts.create_citizen(identity_number="089099887766", full_name="Trần Văn Khác", password=PASSWORD)
    for user in (other, pest_officer):
        client.logout()
        login(client, user)
        assert client.get(f"/tep/{only.file.sha256}/").status_code == 404
        assert client.get(f"/can-bo/sau-benh/nhan-dang/anh/{only.pk}/").status_code in (403, 404)
        assert client.get(f"/can-bo/sau-benh/nhan-dang/{identification.pk}/").status_code == 403
    # A wrong link, or a photo of another request under a right one, is not found.
    assert client.get(f"/sau-benh/nhan-dang/{uuid.uuid4()}/anh/{only.pk}/").status_code == 404
    another = service.submit(photos=[photo("blue")])
    assert client.get(f"/sau-benh/nhan-dang/{another.public_id}/anh/{only.pk}/").status_code == 404
    assert client.get(f"/sau-benh/nhan-dang/{uuid.uuid4()}/").status_code == 404


# ---------------------------------------------------------------------- experts


def test_the_expert_confirms_and_the_farmer_reads_the_answer(pest_catalog, tiny_model, client, expert):
    location = send(client, upload("red"), upload("blue"))["Location"]
    identification = Identification.objects.get()
    photos = list(identification.photos.order_by("pk"))
    expert_client = login(type(client)(), expert)
    queue = expert_client.get("/can-bo/sau-benh/nhan-dang/")
    assert queue.status_code == 200
    text = queue.content.decode()
    assert (
        "Chờ chuyên gia (1)" in text
        and "Mô hình chưa chắc" in text
        and "Mô hình đang dùng: <strong>tiny-pests@" in text
    )
    review = expert_client.get(f"/can-bo/sau-benh/nhan-dang/{identification.pk}/")
    assert review.status_code == 200 and f'name="label-{photos[0].pk}"' in review.content.decode()
    assert expert_client.get(f"/can-bo/sau-benh/nhan-dang/anh/{photos[0].pk}/").status_code == 200
    response = expert_client.post(f"/can-bo/sau-benh/nhan-dang/{identification.pk}/", {"all": "ray-nau"})
    assert response.status_code == 302
    identification.refresh_from_db()
    assert identification.status == Identification.Status.CONFIRMED and identification.answer.code == "ray-nau"
    text = client.get(location).content.decode()
    assert "Chuyên gia bảo vệ thực vật xác nhận: Rầy nâu" in text and "Gửi chuyên gia" not in text


def test_an_unknown_label_is_shown_on_the_form(pest_catalog, tiny_model, client, expert):
    identification = service.submit(photos=[photo("red")])
    only = identification.photos.get()
    response = login(client, expert).post(
        f"/can-bo/sau-benh/nhan-dang/{identification.pk}/", {f"label-{only.pk}": "sau-la"}
    )
    assert response.status_code == 400 and "“sau-la” không có trong danh mục" in response.content.decode()


def test_the_accuracy_page(pest_catalog, tiny_model, client, expert, pest_officer, citizen):
    identification = service.submit(photos=[photo("red")])
    service.confirm(actor=expert, identification=identification, labels={identification.photos.get().pk: "ray-nau"})
    for user in (expert, pest_officer):
        client.logout()
        page = login(client, user).get("/can-bo/sau-benh/nhan-dang/do-chinh-xac/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "Mô hình tiny-pests@" in text and "Rầy nâu" in text and "100,0%" in text
    assert client.get("/can-bo/sau-benh/nhan-dang/do-chinh-xac/?tu=2026-13-01").status_code == 400
    client.logout()
    assert login(client, citizen).get("/can-bo/sau-benh/nhan-dang/do-chinh-xac/").status_code == 403

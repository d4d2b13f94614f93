"""The feedback pages as citizens and officers use them: the report form
(its messages next to each field, phone verification, photos checked by
content and stripped of their location), the public list, map and report
pages (no personal data, search without diacritics), the reporter's own
view (answer, rate, reopen), and the officers' queue and report page
(scoped to their agency, contact details only for the responsible one,
every action through the page)."""

import io
import json
import re
import uuid

import pytest
from django.test import Client
from PIL import Image

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole
from chinhquyenso.feedback import selectors, services
from chinhquyenso.feedback.models import Feedback, FeedbackEvent, Photo, Status
from tests.conftest import vn
from tests.feedback.conftest import jpeg, png, sms_written

pytestmark = pytest.mark.django_db

NAME, PHONE, EMAIL = "Trần Văn Bảo Mật", "0987654321", "baomat.riengtu@example.com"
ADDRESS = "Số 77 hẻm Bí Mật, ấp Long Hòa"
EXACT = ("10.481234", "105.481234")  # the reporter's doorstep
EXACT_VN = tuple(x.replace(".", ",") for x in EXACT)  # as a Vietnamese page would write them
STREET_LIGHT = "Đèn đường hỏng trước chợ Kiến An, tối không thấy đường."


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(name: str, data: bytes, content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def form(**overrides) -> dict:
    data = {
        "category_code": "moi-truong",
        "description": "Rác thải đổ bừa bãi ven kênh.",
        "area_code": "xa-kien-an",
        "name": NAME,
        "phone": PHONE,
        "email": EMAIL,
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def text(response) -> str:
    return response.content.decode()


def error_of(html: str, field: str) -> str:
    """The message shown next to a field (its aria-describedby target)."""
    match = re.search(rf'<p class="error" id="{re.escape(field)}-err">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def has_gps(data: bytes) -> bool:
    return 0x8825 in Image.open(io.BytesIO(data)).getexif()


def served(response) -> bytes:
    return b"".join(response.streaming_content)


def token_of(response) -> str:
    return re.search(r"/phan-anh/theo-doi/([^/]+)/", response["Location"]).group(1)


@pytest.fixture
def private_report(report):
    """A report with every kind of personal data, and an exact point."""
    return report(
        reporter=None,
        name=NAME,
        phone=PHONE,
        email=EMAIL,
        address=ADDRESS,
        latitude=EXACT[0],
        longitude=EXACT[1],
        area_code="",
        channel="open311",
        description=STREET_LIGHT,
        category_code="khac",
    )


# ---------------------------------------------------------------- the form


def test_form_shows_each_message_next_to_its_field_and_keeps_what_was_typed(categories, points, citizen):
    client = signed_in(citizen)
    page = text(client.get("/phan-anh/gui/"))
    assert "Dùng vị trí của tôi" in page and 'name="latitude"' in page and 'accept="image/jpeg,image/png"' in page
    assert "Giữ vị trí trong ảnh" in page and "Xã, phường, thị trấn" in page
    assert '<optgroup label="huyện Chợ Mới"><option value="xa-kien-an">xã Kiến An</option>' in page
    assert NAME not in page and "Nguyễn Thị Hoà" in page  # the account's name is filled in

    cases = [
        ({"category_code": ""}, "category_code", "Hãy chọn lĩnh vực phản ánh."),
        ({"description": "   "}, "description", "Nội dung phản ánh không được để trống."),
        ({"area_code": "", "address": ""}, "location", "Hãy cho biết nơi xảy ra"),
        ({"latitude": "mười", "longitude": "105.4"}, "latitude", "Vĩ độ phải là số"),
        ({"latitude": "10.4"}, "longitude", "phải có cả vĩ độ và kinh độ"),
        ({"latitude": "95", "longitude": "105.4"}, "latitude", "nằm ngoài khoảng"),
        ({"area_code": "khong-co"}, "area_code", "Không tìm thấy xã, phường"),
        ({"email": "khong-phai-email"}, "email", "Địa chỉ thư điện tử không hợp lệ."),
        ({"phone": "12ab"}, "phone", "Số điện thoại không hợp lệ"),
        ({"dossier_code": "KHONG-CO-HO-SO"}, "dossier_code", "Không tìm thấy hồ sơ với mã này."),
        ({"category_code": "dien-nuoc"}, "dien-nuoc-attr-dich_vu", "Thiếu thông tin bắt buộc: Dịch vụ."),
    ]
    for overrides, field, message in cases:
        response = client.post("/phan-anh/gui/", form(**{"description": "Nước thải chảy tràn ra đường.", **overrides}))
        assert response.status_code == 400, overrides
        html = text(response)
        assert message in error_of(html, field), (overrides, field, html[:200])
        assert f'aria-describedby="{field}-err"' in html, field
        if "description" not in overrides:
            assert "Nước thải chảy tràn ra đường." in html  # what was typed stays
    assert not Feedback.objects.exists()  # nothing half-written


def test_signed_in_citizen_submits_directly_and_follows_the_report(categories, points, citizen):
    client = signed_in(citizen)
    sent = form(category_code="dien-nuoc", **{"attr-dich_vu": "chieu-sang"}, description=STREET_LIGHT)
    response = client.post("/phan-anh/gui/", sent)
    assert response.status_code == 302
    feedback = Feedback.objects.get()
    assert response["Location"] == f"/phan-anh/theo-doi/{feedback.token}/?moi=1"
    assert feedback.reporter == citizen and feedback.attribute_values == {"dich_vu": "chieu-sang"}
    page = text(client.get(response["Location"]))
    assert f"Mã phản ánh: {feedback.code}" in page
    assert f"http://testserver/phan-anh/theo-doi/{feedback.token}/" in page
    assert STREET_LIGHT in page and "Tiếp nhận phản ánh" in page  # the history
    # Resending the same form (double click, reload) files nothing new.
    assert client.post("/phan-anh/gui/", sent).status_code == 302
    assert Feedback.objects.count() == 1
    mine = text(client.get("/phan-anh/cua-toi/"))
    assert feedback.code in mine and f"/phan-anh/cua-toi/{feedback.code}/" in mine
    assert STREET_LIGHT in text(client.get(f"/phan-anh/cua-toi/{feedback.code}/"))
    other = accounts.create_citizen(identity_number="089099999999", full_name="Lê Văn Khác")
    assert signed_in(other).get(f"/phan-anh/cua-toi/{feedback.code}/").status_code == 404
    assert Client().get("/phan-anh/cua-toi/")["Location"].startswith("/dang-nhap/")


def test_anonymous_reporter_verifies_the_phone_with_a_code(categories, points):
    client = Client()
    first = text(client.get("/phan-anh/gui/?ho_so="))
    assert "Bước 1: Xác minh số điện thoại" in first and "Gửi phản ánh</button>" not in first

    refused = client.post("/phan-anh/gui/ma-xac-minh/", {"phone": "12345"})
    assert refused.status_code == 400 and "Số điện thoại không hợp lệ" in error_of(text(refused), "phone")
    assert client.post("/phan-anh/gui/ma-xac-minh/", {"phone": "0912 345 678"})["Location"] == "/phan-anh/gui/"
    ((number, sms),) = sms_written()  # delivered by the outbox's worker right after the request
    code = re.search(r"\b(\d{6})\b", sms).group(1)
    assert number == "0912345678"
    step2 = text(client.get("/phan-anh/gui/"))
    assert "Bước 2: Nội dung phản ánh" in step2 and "0912345678" in step2 and 'name="verification_code"' in step2

    wrong = client.post("/phan-anh/gui/", form(verification_code="000000" if code != "000000" else "111111"))
    assert wrong.status_code == 400
    assert "Mã xác minh không đúng." in error_of(text(wrong), "verification_code")
    assert not Feedback.objects.exists()

    # A phone typed into the form instead of the verified one is ignored.
    done = client.post("/phan-anh/gui/", form(verification_code=code, phone="0900000000"))
    assert done.status_code == 302
    feedback = Feedback.objects.get()
    assert feedback.reporter is None and feedback.reporter_phone == "0912345678" and feedback.phone_verified
    # The follow link works without an account, and is not handed on; the form asks for a new code next time.
    followed = Client().get(done["Location"])
    assert feedback.code in text(followed) and followed["Referrer-Policy"] == "same-origin"
    assert "no-store" in followed["Cache-Control"]
    assert "Bước 1: Xác minh số điện thoại" in text(client.get("/phan-anh/gui/"))
    assert client.get(f"/phan-anh/theo-doi/{'x' * 32}/").status_code == 404


def test_a_photo_is_checked_by_its_content(categories, points, citizen):
    client = signed_in(citizen)
    fake = upload("den-duong.jpg", b"%PDF-1.4 not an image at all")
    response = client.post("/phan-anh/gui/", {**form(), "photos": [upload("ok.png", png(), "image/png"), fake]})
    assert response.status_code == 400
    assert "Ảnh phải là tệp JPEG hoặc PNG" in error_of(text(response), "photos")
    assert not Feedback.objects.exists() and not Photo.objects.exists()
    six = [upload(f"{i}.png", png(), "image/png") for i in range(6)]
    too_many = client.post("/phan-anh/gui/", {**form(), "photos": six})
    assert "tối đa 5 ảnh" in error_of(text(too_many), "photos")


def test_photo_location_is_stripped_unless_kept_and_kept_ones_stay_private(categories, points, citizen, officers):
    client = signed_in(citizen)
    client.post(
        "/phan-anh/gui/",
        {
            **form(description="Ổ gà lớn giữa đường.", category_code="giao-thong"),
            "photos": [upload("o-ga.jpg", jpeg(gps=True))],
        },
    )
    client.post(
        "/phan-anh/gui/",
        {
            **form(description="Cống bể, nước tràn.", category_code="giao-thong"),
            "photos": [upload("cong.jpg", jpeg(gps=True, color=(0, 90, 200)))],
            "keep_photo_location": "1",
        },
    )
    stripped, kept = Photo.objects.order_by("feedback__received_at", "id")
    assert not stripped.kept_location and not has_gps(stripped.file.file.read())
    assert kept.kept_location and has_gps(kept.file.file.read())

    public = text(Client().get(f"/phan-anh/{stripped.feedback.code}/"))
    assert f"/phan-anh/anh/{stripped.pk}/" in public
    anyone = Client().get(f"/phan-anh/anh/{stripped.pk}/")
    assert anyone.status_code == 200 and anyone["Content-Type"] == "image/jpeg"
    assert anyone["X-Content-Type-Options"] == "nosniff" and not has_gps(served(anyone))

    assert f"/phan-anh/anh/{kept.pk}/" not in text(Client().get(f"/phan-anh/{kept.feedback.code}/"))
    assert Client().get(f"/phan-anh/anh/{kept.pk}/").status_code == 404
    assert Client().get(f"/phan-anh/anh/{kept.pk}/?t=sai").status_code == 404
    by_token = Client().get(f"/phan-anh/anh/{kept.pk}/?t={kept.feedback.token}")
    assert by_token.status_code == 200 and has_gps(served(by_token))
    assert signed_in(citizen).get(f"/phan-anh/anh/{kept.pk}/").status_code == 200
    assert signed_in(officers["xa_a"]["specialist"]).get(f"/phan-anh/anh/{kept.pk}/").status_code == 200
    assert signed_in(officers["xa_b"]["specialist"]).get(f"/phan-anh/anh/{kept.pk}/").status_code == 404


# ---------------------------------------------------------------- public pages


def test_public_pages_show_no_personal_data(private_report, officers):
    feedback = private_report
    assert feedback.area.code == "xa-kien-an"  # routed by the pin
    services.start(feedback, actor=officers["xa_a"]["specialist"])
    services.resolve(feedback, actor=officers["xa_a"]["specialist"], public_reply="Đã thay bóng đèn mới.")
    pages = {
        url: Client().get(url)
        for url in (
            "/phan-anh/",
            "/phan-anh/ban-do/",
            f"/phan-anh/{feedback.code}/",
            "/phan-anh/?q=den+duong",
            "/phan-anh/ban-do/?q=den",
        )
    }
    for url, response in pages.items():
        assert response.status_code == 200, url
        html = text(response)
        assert feedback.code in html, url
        for private in (NAME, "Bảo Mật", PHONE, EMAIL, ADDRESS, "Bí Mật", *EXACT, *EXACT_VN, feedback.token):
            assert private not in html, (url, private)
    report = text(pages[f"/phan-anh/{feedback.code}/"])
    assert "Đã thay bóng đèn mới." in report and "xã Kiến An" in report and "Đã xử lý xong" in report
    assert "10.481" in text(pages["/phan-anh/ban-do/"])  # the rounded point


def test_descriptions_are_shown_escaped(report):
    feedback = report(description='<script>alert("x")</script><b>đậm</b>', category_code="khac")
    for url in ("/phan-anh/", f"/phan-anh/{feedback.code}/"):
        html = text(Client().get(url))
        assert "<script>alert" not in html and "<b>đậm" not in html
        assert "&lt;script&gt;" in html


def test_public_list_search_folds_diacritics_and_filters(report, officers):
    light = report(description=STREET_LIGHT, category_code="giao-thong")
    trash = report(description="Rác thải bốc mùi hôi thối ở chợ.", area_code="xa-kien-thanh")
    for q in ("den duong hong", "ĐÈN ĐƯỜNG", "đen duong", "Den"):
        html = text(Client().get("/phan-anh/", {"q": q}))
        assert light.code in html and trash.code not in html, q
    assert trash.code in text(Client().get("/phan-anh/", {"q": "rac thai boc mui"}))
    both = text(Client().get("/phan-anh/", {"q": "cho"}))  # "chợ" in both
    assert light.code in both and trash.code in both
    by_category = text(Client().get("/phan-anh/", {"linh_vuc": "giao-thong"}))
    assert light.code in by_category and trash.code not in by_category
    by_commune = text(Client().get("/phan-anh/", {"xa": "xa-kien-thanh"}))
    assert trash.code in by_commune and light.code not in by_commune
    services.start(light, actor=officers["xa_a"]["specialist"])
    by_status = text(Client().get("/phan-anh/", {"trang_thai": "in_progress"}))
    assert light.code in by_status and trash.code not in by_status
    assert Client().get("/phan-anh/", {"trang": "999"}).status_code == 200  # a page past the end shows the last


def test_public_list_is_newest_first_and_paginated(report):
    codes = [report(description=f"Phản ánh số {i} về rác.", at=vn(2025, 3, 3, 8, i)).code for i in range(22)]
    first = text(Client().get("/phan-anh/"))
    assert first.index(codes[-1]) < first.index(codes[-2]) and codes[0] not in first
    assert "Trang 1/2" in first and "trang=2" in first
    assert codes[0] in text(Client().get("/phan-anh/", {"trang": "2"}))


def test_map_places_linked_points_and_lists_them_in_a_table(report):
    pinned = report(latitude="10.480000", longitude="105.480000", area_code="", description="Cây đổ chắn đường.")
    outside = report(area_code="xa-kien-an", description="Ngoài tỉnh.")
    # Filing refuses a point outside the province (core.params.point); a row stored before that rule:
    Feedback.objects.filter(pk=outside.pk).update(latitude="21.0285", longitude="105.8542")
    unpinned = report(description="Không có tọa độ.")
    html = text(Client().get("/phan-anh/ban-do/"))
    # The map's pins (Leaflet, cqs/map.js) as GeoJSON; tests/feedback/test_map_pages.py has the rest.
    start = html.index(">", html.index('<script id="ban-do-phan-anh-points"')) + 1
    pins = json.loads(html[start : html.index("</script>", start)])["features"]
    assert [(p["properties"]["url"], p["properties"]["label"].split(" — ")[0]) for p in pins] == [
        (f"/phan-anh/{pinned.code}/", f"{pinned.code}: Môi trường")
    ]
    pins = json.dumps(pins)
    assert outside.code not in pins and unpinned.code not in pins
    table = html[html.index("<table") :]
    assert f'<a href="/phan-anh/{pinned.code}/">{pinned.code}</a>' in table and "10.480, 105.480" in table
    assert html.count("<circle") >= 1  # the legend's sample


def test_without_configured_bounds_the_map_spans_the_communes_points(report, settings):
    settings.CQS = {**settings.CQS, "FEEDBACK_MAP_BOUNDS": ""}
    margin = settings.CQS.get("FEEDBACK_PIN_MAX_KM", 15) / 111
    south, north, west, east = selectors.map_bounds()
    assert (south, north) == pytest.approx((10.43 - margin, 10.48 + margin))
    assert (west, east) == pytest.approx((105.48 - margin, 105.52 + margin))
    pinned = report(latitude="10.480000", longitude="105.480000", area_code="", description="Cây đổ chắn đường.")
    far = report(area_code="xa-kien-an", description="Xa các xã.")
    Feedback.objects.filter(pk=far.pk).update(latitude="10.2", longitude="104.9")  # stored before the bounds rule
    svg = text(Client().get("/phan-anh/ban-do/"))
    assert pinned.code in svg and far.code not in svg


# ---------------------------------------------------------------- officers


def test_officers_see_only_their_agency_reports(report, officers, citizen):
    feedback = report()
    assert feedback.agency.code == "xa-kien-an"
    own, other = officers["xa_a"]["specialist"], officers["xa_b"]["specialist"]
    assert feedback.code in text(signed_in(own).get("/can-bo/phan-anh/"))
    assert feedback.code not in text(signed_in(other).get("/can-bo/phan-anh/?tab=tat-ca"))
    assert signed_in(other).get(f"/can-bo/phan-anh/{feedback.code}/").status_code == 404
    assert signed_in(other).post(f"/can-bo/phan-anh/{feedback.code}/start/").status_code == 404
    assert signed_in(citizen).get("/can-bo/phan-anh/").status_code == 403
    assert Client().get("/can-bo/phan-anh/")["Location"].startswith("/dang-nhap/")
    feedback.refresh_from_db()
    assert feedback.status == Status.ASSIGNED


def test_contact_details_only_for_the_responsible_agency_and_ioc(
    private_report, report, officers, ioc_operator, admin_user
):
    feedback = private_report
    holder = officers["xa_a"]["specialist"]
    page = text(signed_in(holder).get(f"/can-bo/phan-anh/{feedback.code}/"))
    for private in (NAME, PHONE, EMAIL, ADDRESS, EXACT[0]):
        assert private in page
    assert NAME in text(signed_in(ioc_operator).get(f"/can-bo/phan-anh/{feedback.code}/"))
    auditor = accounts.create_officer(
        actor=admin_user, username="kiem.tra", password="x", full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )
    # The IOC sends it to the other commune: the first one still sees it (it held it), without contact details.
    services.assign(feedback, actor=ioc_operator, agency_code="xa-kien-thanh")
    for user in (holder, auditor):
        response = signed_in(user).get(f"/can-bo/phan-anh/{feedback.code}/")
        assert response.status_code == 200
        html = text(response)
        assert "chỉ cơ quan xử lý và điều phối viên IOC xem được" in html
        for private in (NAME, PHONE, EMAIL, ADDRESS, *EXACT, *EXACT_VN):
            assert private not in html, (user.username, private)
    assert PHONE in text(signed_in(officers["xa_b"]["specialist"]).get(f"/can-bo/phan-anh/{feedback.code}/"))
    # A signed-in citizen's report: their name is not given away by the history either.
    own = report(description="Rác ở chợ.")
    services.assign(own, actor=ioc_operator, agency_code="xa-kien-thanh")
    html = text(signed_in(holder).get(f"/can-bo/phan-anh/{own.code}/"))
    assert "Nguyễn Thị Hoà" not in html and "Người phản ánh</td>" in html


def test_every_officer_action_through_the_pages(report, officers, citizen):
    feedback = report(at=None)  # now: information may be asked only within 5 working days
    specialist, leader = officers["xa_a"]["specialist"], officers["xa_a"]["leader"]
    client, url = signed_in(specialist), f"/can-bo/phan-anh/{feedback.code}/"
    page = text(client.get(url))
    assert "Bắt đầu xử lý</button>" in page and "Gộp vào phản ánh gốc" not in page  # merging is for leaders, IOC
    assert client.post(url + "start/")["Location"] == url

    empty = client.post(url + "request_info/", {"question": " "})
    assert empty.status_code == 400 and "không được để trống" in error_of(text(empty), "question")
    client.post(url + "request_info/", {"question": "Xin chụp thêm ảnh vị trí đổ rác."})
    feedback.refresh_from_db()
    assert feedback.status == Status.WAITING_INFO
    assert "Chờ người phản ánh bổ sung" in text(client.get(url))

    own = signed_in(citizen)
    follow = f"/phan-anh/cua-toi/{feedback.code}/"
    asked = text(own.get(follow))
    assert "Xin chụp thêm ảnh vị trí đổ rác." in asked and "Gửi thông tin bổ sung" in asked
    refused = own.post(follow, {"action": "provide_info", "text": ""})
    assert refused.status_code == 400 and "không được để trống" in error_of(text(refused), "info")
    assert own.post(follow, {"action": "provide_info", "text": "Rác ở cuối hẻm 5, gần cầu."}).status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == Status.IN_PROGRESS

    client.post(url + "comment/", {"text": "Đã giao tổ vệ sinh kiểm tra.", "public": "0"})
    client.post(url + "comment/", {"text": "Tổ vệ sinh sẽ thu gom trong tuần.", "public": "1"})
    officer_page = text(client.get(url))
    assert "Đã giao tổ vệ sinh kiểm tra." in officer_page and "nội bộ" in officer_page
    public = text(Client().get(f"/phan-anh/{feedback.code}/"))
    assert "Tổ vệ sinh sẽ thu gom trong tuần." in public and "Đã giao tổ vệ sinh kiểm tra." not in public
    assert "Rác ở cuối hẻm 5" not in public  # the reporter's answer is not public

    no_reply = client.post(url + "resolve/", {"public_reply": ""})
    assert no_reply.status_code == 400
    assert "Nội dung trả lời không được để trống." in error_of(text(no_reply), "resolve")
    client.post(url + "resolve/", {"public_reply": "Đã thu gom rác, đặt biển cấm đổ rác."})
    feedback.refresh_from_db()
    assert feedback.status == Status.RESOLVED and feedback.public_reply == "Đã thu gom rác, đặt biển cấm đổ rác."
    assert "Đã thu gom rác" in text(Client().get(f"/phan-anh/{feedback.code}/"))

    second = report(description="Một phản ánh không thuộc phạm vi xã.")
    url2 = f"/can-bo/phan-anh/{second.code}/"
    no_reason = client.post(url2 + "reject/", {"reason": ""})
    assert "Lý do từ chối không được để trống." in error_of(text(no_reason), "reject")
    client.post(url2 + "reject/", {"reason": "Thuộc thẩm quyền của Sở Tài nguyên và Môi trường."})
    second.refresh_from_db()
    assert second.status == Status.REJECTED
    assert "Thuộc thẩm quyền của Sở Tài nguyên" in text(Client().get(f"/phan-anh/{second.code}/"))

    # A leader reassigns within the pages too.
    third = report(description="Rác ở ranh giới hai xã.")
    signed_in(leader).post(f"/can-bo/phan-anh/{third.code}/assign/", {"agency_code": "xa-kien-thanh", "note": ""})
    third.refresh_from_db()
    assert third.agency.code == "xa-kien-thanh"
    assert FeedbackEvent.objects.filter(feedback=third, action="assign", actor=leader).exists()
    assert client.post(f"{url}bogus/").status_code == 404


def test_ioc_operator_dispatches_merges_and_splits(report, ioc_operator, officers):
    unrouted = report(category_code="dien-nuoc", attribute_values={"dich_vu": "chieu-sang"}, description=STREET_LIGHT)
    assert unrouted.agency is None
    client = signed_in(ioc_operator)
    queue = text(client.get("/can-bo/phan-anh/"))
    assert "Chờ điều phối (1)" in queue and unrouted.code in queue
    url = f"/can-bo/phan-anh/{unrouted.code}/"
    page = text(client.get(url))
    assert '<option value="xa-kien-an">UBND xã Kiến An</option>' in page
    bad = client.post(url + "assign/", {"agency_code": ""})
    assert bad.status_code == 400 and "Chưa nhập mã hoặc tên cơ quan" in error_of(text(bad), "assign")
    sent = client.post(url + "assign/", {"agency_code": "xa-kien-an", "note": "Chiếu sáng do xã quản lý."})
    assert sent.status_code == 302
    unrouted.refresh_from_db()
    assert unrouted.agency.code == "xa-kien-an" and unrouted.status == Status.ASSIGNED
    assert "Chiếu sáng do xã quản lý." in text(Client().get(f"/phan-anh/{unrouted.code}/"))

    duplicate = report(description="Đèn đường trước chợ Kiến An không sáng.", category_code="giao-thong")
    url = f"/can-bo/phan-anh/{duplicate.code}/"
    missing = client.post(url + "merge/", {"into_code": "PA-1999-000001"})
    assert missing.status_code == 400 and "Không tìm thấy phản ánh mã “PA-1999-000001”" in text(missing)
    client.post(url + "merge/", {"into_code": unrouted.code})
    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED and duplicate.merged_into == unrouted
    assert f'href="/phan-anh/{unrouted.code}/"' in text(Client().get(f"/phan-anh/{duplicate.code}/"))
    assert duplicate.code in text(client.get(f"/can-bo/phan-anh/{unrouted.code}/"))  # listed as merged in

    mixed = report(description="Rác thải ven kênh và ổ gà trên đường liên ấp.")
    url = f"/can-bo/phan-anh/{mixed.code}/"
    one = client.post(url + "split/", {"part-1-category": "moi-truong", "part-1-description": "Rác thải ven kênh."})
    assert one.status_code == 400 and "ít nhất hai phần" in text(one)
    client.post(
        url + "split/",
        {
            "part-1-category": "moi-truong",
            "part-1-description": "Rác thải ven kênh.",
            "part-2-category": "giao-thong",
            "part-2-description": "Ổ gà trên đường liên ấp.",
        },
    )
    mixed.refresh_from_db()
    assert mixed.status == Status.SPLIT and mixed.parts.count() == 2
    page = text(client.get(url))
    assert all(part.code in page for part in mixed.parts.all())


def test_queue_tabs_and_the_clock(report, officers, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    now = vn(2025, 3, 20, 10)  # Thursday
    monkeypatch.setattr(timezone, "now", lambda: now)
    overdue = report(at=vn(2025, 2, 10, 9), description="Quá hạn từ lâu.")  # due 03/3 (15 working days)
    soon = report(at=vn(2025, 3, 3, 9), description="Sắp đến hạn.")  # due 24/3: 2 working days left
    fresh = report(at=vn(2025, 3, 19, 9), description="Mới gửi.")
    waiting = report(at=vn(2025, 3, 18, 9), description="Chờ bổ sung.")
    done = report(at=vn(2025, 3, 4, 9), description="Đã xong.")
    specialist = officers["xa_a"]["specialist"]
    services.request_info(waiting, actor=specialist, question="Địa chỉ cụ thể?", at=now - dt.timedelta(hours=1))
    services.resolve(done, actor=specialist, public_reply="Xong.", at=now - dt.timedelta(hours=1))
    client = signed_in(specialist)
    page = text(client.get("/can-bo/phan-anh/"))
    assert "Đang xử lý (3)" in page and "Sắp đến hạn (1)" in page and "Quá hạn (1)" in page
    assert "Chờ người phản ánh (1)" in page and "Đã xử lý (1)" in page
    assert page.index(overdue.code) < page.index(soon.code) < page.index(fresh.code)  # most urgent first
    assert re.search(rf"{overdue.code}.*?Quá hạn 13 ngày làm việc", page, re.S)
    assert re.search(rf"{soon.code}.*?badge due_soon\">Còn 2 ngày làm việc", page, re.S)
    assert re.search(rf"{fresh.code}.*?badge in_time\">Còn 14 ngày làm việc", page, re.S)
    overdue_tab = text(client.get("/can-bo/phan-anh/?tab=qua-han"))
    assert overdue.code in overdue_tab and soon.code not in overdue_tab
    assert soon.code in text(client.get("/can-bo/phan-anh/?tab=sap-den-han"))
    assert waiting.code in text(client.get("/can-bo/phan-anh/?tab=cho-cong-dan"))
    finished = text(client.get("/can-bo/phan-anh/?tab=da-xu-ly"))
    assert done.code in finished and "Xử lý xong đúng hạn" in finished
    assert "tat-ca" not in page  # "all" is the IOC's tab

    # Escalations are shown on the report page.
    services.escalate_due(now)
    escalated = text(client.get(f"/can-bo/phan-anh/{overdue.code}/"))
    assert "Chuyển cấp" in escalated and re.search(r"Chuyển IOC — báo IOC", escalated)
    assert re.search(r"Sắp đến hạn — báo lãnh đạo UBND xã Kiến An", text(client.get(f"/can-bo/phan-anh/{soon.code}/")))


def test_the_reporter_rates_or_reopens_after_the_resolution(report, officers, citizen):
    feedback = report()
    specialist = officers["xa_a"]["specialist"]
    services.resolve(feedback, actor=specialist, public_reply="Đã thu gom.")
    own = signed_in(citizen)
    url = f"/phan-anh/cua-toi/{feedback.code}/"
    page = text(own.get(url))
    assert "Gửi đánh giá" in page and "Mở lại phản ánh" in page

    no_reason = own.post(url, {"action": "reopen", "reason": ""})
    assert no_reason.status_code == 400 and "Lý do mở lại không được để trống." in error_of(text(no_reason), "reopen")
    assert own.post(url, {"action": "reopen", "reason": "Rác vẫn còn, chưa thu gom hết."}).status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == Status.IN_PROGRESS and feedback.reopened_count == 1
    assert "Rác vẫn còn, chưa thu gom hết." in text(Client().get(f"/phan-anh/{feedback.code}/"))

    services.resolve(feedback, actor=specialist, public_reply="Đã thu gom hết, rửa sạch mặt đường.")
    unrated = own.post(url, {"action": "rate", "comment": "Tốt"})
    assert unrated.status_code == 400 and "Hãy chọn mức hài lòng" in error_of(text(unrated), "rate")
    assert "Tốt" in text(unrated)  # the comment stays
    # By the private link (no account) the same works.
    follow = f"/phan-anh/theo-doi/{feedback.token}/"
    assert Client().post(follow, {"action": "rate", "rating": "4", "comment": "Xử lý nhanh."}).status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == Status.CLOSED and feedback.rating == 4
    public = text(Client().get(f"/phan-anh/{feedback.code}/"))
    assert "4/5 sao: Xử lý nhanh." in public
    assert "Gửi đánh giá" not in text(own.get(url))
    # Someone without the link cannot act on it.
    assert Client().post(f"/phan-anh/theo-doi/{'z' * 32}/", {"action": "rate", "rating": "1"}).status_code == 404


def test_navigation_links(categories, citizen, officers, ioc_operator, birth_procedure):
    assert 'href="/phan-anh/"' in text(Client().get("/"))
    assert 'href="/can-bo/phan-anh/"' in text(signed_in(officers["xa_a"]["specialist"]).get("/can-bo/"))
    operator = signed_in(ioc_operator)
    assert 'href="/can-bo/phan-anh/">Điều phối phản ánh' in text(operator.get("/can-bo/phan-anh/"))
    assert (
        Client().post("/dang-nhap/", {"username": "ioc.dieuphoi", "password": "Mat-khau-2025"})["Location"]
        == "/can-bo/phan-anh/"
    )


def test_text_typed_in_nfd_is_stored_nfc_and_found_without_diacritics(categories, points, citizen):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Cây xanh ngã đè lên đường dây điện.")
    assert signed_in(citizen).post("/phan-anh/gui/", form(description=decomposed)).status_code == 302
    feedback = Feedback.objects.get()
    assert feedback.description == unicodedata.normalize("NFC", decomposed)
    assert feedback.code in text(Client().get("/phan-anh/", {"q": "cay xanh nga de"}))
    assert feedback.code in text(Client().get("/phan-anh/", {"q": unicodedata.normalize("NFD", "ngã đè")}))


def test_undelivered_messages_are_listed_for_the_ioc_and_sent_again(report, officers, ioc_operator, admin_user):
    from chinhquyenso.exchange.models import Message

    feedback = report()
    services.resolve(feedback, actor=officers["xa_a"]["specialist"], public_reply="Đã thu gom.", at=vn(2025, 3, 4, 9))
    message = Message.objects.get(kind="feedback.resolved")
    Message.objects.filter(pk=message.pk).update(state=Message.State.DEAD, attempts=5, last_error="SMTP down")
    operator = signed_in(ioc_operator)
    page = text(operator.get("/can-bo/phan-anh/"))
    assert "Thư, tin nhắn chưa gửi được" in page and f"Phản ánh {feedback.code}" in page and "SMTP down" in page
    assert "hoa@example.vn" not in page  # the recipient is the reporter's contact: not listed
    # The handling agency's officers see their own; another commune's do not.
    assert "SMTP down" in text(signed_in(officers["xa_a"]["specialist"]).get("/can-bo/phan-anh/"))
    assert "SMTP down" not in text(signed_in(officers["xa_b"]["specialist"]).get("/can-bo/phan-anh/"))
    # Auditors read the list but may not send again.
    auditor = accounts.create_officer(
        actor=admin_user, username="kiem.tra", password="x", full_name="Kiểm tra", global_role=GlobalRole.AUDITOR
    )
    audit_page = text(signed_in(auditor).get("/can-bo/phan-anh/"))
    assert "SMTP down" in audit_page and "Gửi lại</button>" not in audit_page
    url = f"/can-bo/phan-anh/thu-gui-loi/{message.pk}/gui-lai/"
    assert signed_in(auditor).post(url).status_code == 403
    assert signed_in(officers["xa_b"]["specialist"]).post(url).status_code == 404
    assert operator.post(url)["Location"] == "/can-bo/phan-anh/"
    message.refresh_from_db()
    assert message.state == Message.State.PENDING and message.attempts == 0
    assert "SMTP down" not in text(operator.get("/can-bo/phan-anh/"))
    assert operator.post(url).status_code == 404  # no longer undelivered


def test_the_channel_is_named_by_the_installation(report, officers, settings):
    settings.CQS = {**settings.CQS, "FEEDBACK_APP_NAME": "Ứng dụng Công dân số"}
    feedback = report(reporter=None, channel="app", phone="0912345678", device_id="may-1")
    page = text(signed_in(officers["xa_a"]["specialist"]).get(f"/can-bo/phan-anh/{feedback.code}/"))
    assert "Ứng dụng Công dân số" in page

"""Crop pests in a real browser. A farmer on a phone (360 px) sends two photos of a field and gets an answer
from the identification model (a tiny ONNX model built by tests/pests/onnx_models.py, configured as an
installation configures its own); sends two more that the model is unsure about and is told they went to
an expert; the expert (an officer granted pests.confirm_identification) confirms them and the farmer's
page shows the expert's answer. Then a smart trap's counts cross the rầy nâu warning level (a signed
message through the ingestion service, then the alert evaluation the worker runs) and the district's
weekly bulletin is issued; an officer of the commune — no pest grant, only their commune — sees the alert
with the rule and the data behind it, and the bulletin with its PDF. Every page goes through
`check_page` (axe-core WCAG 2.1 AA, weight, no sideways scrolling) and leaves a screenshot in
artifacts/screenshots/sau-benh/."""

from __future__ import annotations

import re

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from chinhquyenso.pests.models import Alert, Bulletin, Identification
from chinhquyenso.pests.services import alerts, bulletins
from tests.browser.support import check_page, pdf_text, sign_in
from tests.pests import conftest as pest_fixtures
from tests.pests.conftest import grant_pests, last_night
from tests.pests.onnx_models import photo, write_model

# The pest tests' fixtures (tests/pests/conftest.py), offered to this module under their names.
pest_catalog = pest_fixtures.pest_catalog
pest_area = pest_fixtures.pest_area
pest_officer = pest_fixtures.pest_officer
make_trap = pest_fixtures.make_trap
ingest_counts = pest_fixtures.ingest_counts

JOURNEY = "sau-benh"
PASSWORD = "Mat-khau-2025"


def main_text(page) -> str:
    return " ".join(page.get_by_role("main").inner_text().split())


def send_photos(page, tmp_path, first: str, second: str, name: str) -> None:
    """The farmer's form: two photos of one field (the camera's two inputs), then "Gửi"."""
    paths = []
    for number, colour in enumerate((first, second), start=1):
        path = tmp_path / f"{name}-{number}.jpg"
        path.write_bytes(photo(colour, size=(480, 360), noise=number))
        paths.append(path)
    page.get_by_label("Ảnh thứ nhất").set_input_files(paths[0])
    page.get_by_label(re.compile("^Ảnh thứ hai")).set_input_files(paths[1])
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi ảnh để nhận dạng").click()
    assert re.search(r"/sau-benh/nhan-dang/[0-9a-f-]{36}/$", page.url), page.url


def test_a_farmer_an_expert_and_a_commune_officer(
    page,
    new_browser_page,
    settings,
    tmp_path,
    officers,
    pest_area,
    pest_officer,
    make_trap,
    ingest_counts,
    admin_user,
):
    model, classes = write_model(tmp_path / "mo-hinh")
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": str(model), "PESTS_MODEL_CLASSES": str(classes)}

    # A farmer, on a phone, without an account: two photos of rầy nâu → the model's answer.
    page.goto("/sau-benh/nhan-dang/")
    check_page(page, "nong-dan-gui-anh", journey=JOURNEY)
    send_photos(page, tmp_path, "red", "red", "ray-nau")
    text = main_text(page)
    assert re.search(r"Nhiều khả năng là Rầy nâu \(\d+%\)", text), text
    assert "Nên làm gì" in text
    check_page(page, "nong-dan-ket-qua", journey=JOURNEY)

    # Two photos the model reads differently (one brown, one without pest): it does not guess.
    with page.expect_navigation():
        page.get_by_role("link", name="Gửi ảnh khác").click()
    send_photos(page, tmp_path, "red", "green", "chua-chac")
    unsure_url = page.url
    assert "Chưa chắc chắn — ảnh đã được gửi cho chuyên gia" in main_text(page)
    check_page(page, "nong-dan-cho-chuyen-gia", journey=JOURNEY)
    waiting = Identification.objects.get(public_id=unsure_url.rstrip("/").split("/")[-1])
    assert waiting.status == Identification.Status.ABSTAINED and waiting.sent_to_expert

    # The expert confirms: rầy nâu on both photos.
    expert = accounts.create_officer(
        actor=admin_user,
        username="chuyengia.bvtv",
        password=PASSWORD,
        full_name="Phạm Thị Chuyên",
        memberships=[(pest_area.plant_protection, Role.SPECIALIST)],
    )
    grant_pests(expert, "confirm_identification")
    desk = new_browser_page(desktop=True)
    sign_in(desk, expert.username, PASSWORD)
    desk.goto("/can-bo/sau-benh/nhan-dang/")
    assert "Chờ chuyên gia (1)" in main_text(desk)
    check_page(desk, "chuyen-gia-hang-cho", journey=JOURNEY)
    with desk.expect_navigation():
        desk.get_by_role("region", name=re.compile("^Chờ chuyên gia")).get_by_role("link").first.click()
    check_page(desk, "chuyen-gia-xac-nhan", journey=JOURNEY)
    desk.get_by_label(re.compile("^Một kết quả cho mọi ảnh")).select_option(label="Rầy nâu")
    with desk.expect_navigation():
        desk.get_by_role("button", name="Lưu xác nhận").click()
    assert "Chuyên gia xác nhận Rầy nâu" in main_text(desk)
    waiting.refresh_from_db()
    assert waiting.status == Identification.Status.CONFIRMED and waiting.answer.code == "ray-nau"

    # The farmer's page (the link is the key) now carries the expert's answer.
    page.goto(unsure_url)
    assert "Chuyên gia bảo vệ thực vật xác nhận: Rầy nâu" in main_text(page)
    check_page(page, "nong-dan-chuyen-gia-tra-loi", journey=JOURNEY)

    # A smart trap in xã Kiến An counts 7,000 rầy nâu last night: above the 5,000 con/bẫy/đêm warning
    # level. The worker's alert job runs; the district's plant-protection station issues the week's bulletin.
    station, secret = make_trap("bd-kien-an-01", pest_area.commune_a, name="Bẫy đèn thông minh xã Kiến An")
    assert ingest_counts(station, secret, {"ray-nau": 7000, "bo-xit-mu-xanh": 40}).status == "accepted"
    assert alerts.evaluate()["issued"] >= 1
    alert = Alert.objects.get(organism__code="ray-nau", commune=pest_area.commune_a)
    grant_pests(pest_officer, "survey_pests", "issue_pest_bulletin")
    bulletin = bulletins.issue(area=pest_area.district, week_start=last_night(), actor=pest_officer)

    # An officer of xã Kiến An (no pest grant: their commune is their scope) sees the alert …
    officer = new_browser_page(desktop=True)
    sign_in(officer, officers["xa_a"]["specialist"].username, PASSWORD)
    officer.goto("/can-bo/sau-benh/canh-bao/")
    check_page(officer, "xa-canh-bao", journey=JOURNEY)
    with officer.expect_navigation():
        officer.get_by_role("link", name="Rầy nâu").first.click()
    assert officer.url.rstrip("/").endswith(f"/canh-bao/{alert.pk}")
    text = main_text(officer)
    assert "UBND xã Kiến An" in text and "bd-kien-an-01" in text and "7.000" in text
    check_page(officer, "xa-canh-bao-chi-tiet", journey=JOURNEY)

    # … and the district's bulletin of the week, as a page and as the PDF.
    officer.goto("/can-bo/sau-benh/thong-bao/")
    check_page(officer, "xa-thong-bao", journey=JOURNEY)
    with officer.expect_navigation():
        officer.get_by_role("link", name=bulletin.number).click()
    assert "Rầy nâu" in main_text(officer)
    check_page(officer, "xa-thong-bao-chi-tiet", journey=JOURNEY)
    pdf = officer.request.get(f"/can-bo/sau-benh/thong-bao/{bulletin.pk}/tep.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"].startswith("application/pdf")
    printed = pdf_text(pdf.body())
    assert "Rầy nâu" in printed and bulletin.number in printed
    assert Bulletin.objects.count() == 1

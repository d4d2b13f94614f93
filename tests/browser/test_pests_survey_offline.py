"""A plant-protection officer fills a field survey on a phone that loses the network (pests.static
survey.js): the form survives a reload, a submission without a network waits on the phone and is
sent by itself when the network returns, and the server stores it once."""

import re

from chinhquyenso.pests.models import Survey
from tests.browser.support import check_page, sign_in
from tests.pests.conftest import pest_area, pest_catalog, pest_officer  # noqa: F401 — the pests tests' fixtures

JOURNEY = "sau-benh-dieu-tra"


def test_a_survey_sent_without_network_is_stored_once_when_it_returns(page, pest_catalog, pest_officer, pest_area):  # noqa: F811
    sign_in(page, pest_officer.username, "Mat-khau-2025")
    page.goto("/can-bo/sau-benh/dieu-tra/moi/")
    check_page(page, "phieu-dieu-tra", journey=JOURNEY)
    page.get_by_label("Xã, phường", exact=True).select_option(label="UBND xã Kiến An")
    page.get_by_label(re.compile("^Giai đoạn sinh trưởng")).select_option("de-nhanh")
    page.locator("#mat_do_ray-nau").fill("1500")
    page.locator("#mat_do_nhen-soi").fill("30")
    client_id = page.locator("input[name=client_id]").input_value()
    assert re.fullmatch(r"[0-9a-f-]{36}", client_id)

    # A reload (or the browser closed) keeps what was typed, under the same client id.
    page.reload()
    assert page.locator("#mat_do_ray-nau").input_value() == "1500"
    assert page.locator("input[name=client_id]").input_value() == client_id
    assert "Đã mở lại phiếu đang nhập dở" in page.locator("#trang-thai-gui").inner_text()

    # In the field, without a network: the form waits on the phone.
    page.context.set_offline(True)
    page.get_by_role("button", name="Gửi phiếu").click()
    status = page.locator("#trang-thai-gui")
    status.filter(has_text="mất mạng").wait_for()
    assert Survey.objects.count() == 0
    assert page.get_by_role("button", name=re.compile("^Gửi lại 1 phiếu")).is_visible()

    # Back online: the queue sends it by itself, once; the form is ready for the next field.
    page.context.set_offline(False)
    status.filter(has_text="Đã gửi 1 phiếu").wait_for()
    survey = Survey.objects.get()
    assert str(survey.client_id) == client_id and survey.commune == pest_area.commune_a
    assert page.locator("#mat_do_ray-nau").input_value() == ""
    assert page.locator("input[name=client_id]").input_value() != client_id

    # The officer taps "Gửi lại" anyway, or the old form is sent again: still one survey.
    page.evaluate(
        """(id) => {
            const fields = [["client_id", id], ["commune", "xa-kien-an"], ["crop", "lua"], ["stage", "de-nhanh"],
                            ["surveyed_on", document.getElementById("surveyed_on").value],
                            ["mat_do_ray-nau", "1500"], ["mat_do_nhen-soi", "30"]];
            localStorage.setItem("cqs.pests.survey.queue", JSON.stringify([{client_id: id, fields: fields, saved: Date.now()}]));
        }""",
        client_id,
    )
    page.reload()
    status.filter(has_text="Đã gửi 1 phiếu").wait_for()
    assert Survey.objects.count() == 1

    # Online, "Gửi phiếu" opens the stored survey.
    page.get_by_label("Xã, phường", exact=True).select_option(label="UBND xã Kiến An")
    page.get_by_label(re.compile("^Giai đoạn sinh trưởng")).select_option("lam-dong")
    page.locator("#ty_le_dao-on").fill("2")
    with page.expect_navigation(url=re.compile(r"/can-bo/sau-benh/dieu-tra/\d+/$")):
        page.get_by_role("button", name="Gửi phiếu").click()
    assert Survey.objects.count() == 2
    check_page(page, "phieu-da-gui", journey=JOURNEY)

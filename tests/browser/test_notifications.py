"""A citizen is told by SMS when the officer accepts (issue 19, "Done when"), in a real browser on a
phone: they agree to SMS on the preferences page (ticking the box themselves), the counter officer
accepts their dossier, the outbox worker's step sends the SMS to the gateway simulator (its own
process), which received it; the citizen sees the notice counted in the header, opens the list and
follows the notice to the dossier. Every page of ours passes check_page."""

import httpx

from chinhquyenso.core import simulators
from chinhquyenso.dossiers import services
from chinhquyenso.exchange import outbox
from tests.browser.support import check_page, sign_in

JOURNEY = "thong-bao"
PAPER = [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}]
PHONE = "0912345678"


def start_sms_simulator(settings):
    process, url = simulators.spawn("chinhquyenso.exchange.sms_simulator", "SMS_SIMULATOR", "--token", "sms-test-token")
    settings.CQS = {
        **settings.CQS,
        "OUTBOX_SENDERS": {**settings.CQS["OUTBOX_SENDERS"], "sms": "chinhquyenso.exchange.senders.sms_sender"},
        "SMS_ADAPTER": "simulator",
        "SMS_BASE_URL": url,
        "SMS_TOKEN": "sms-test-token",
    }
    return process, url


def test_a_citizen_agrees_to_sms_and_receives_one_when_the_officer_accepts(
    new_browser_page, live_server, settings, birth_procedure, citizen, officers
):
    process, gateway = start_sms_simulator(settings)
    try:
        dossier = services.submit(
            actor=citizen, procedure_code="1.001193", channel="online", agency_code="xa-kien-an", components=PAPER
        )
        page = new_browser_page()  # 360×740
        sign_in(page, citizen.identity_number, "Cong-dan-2025")
        page.goto("/ca-nhan/thong-bao/cai-dat/")
        check_page(page, "cai-dat", journey=JOURNEY)
        page.get_by_label("Số điện thoại nhận tin nhắn").fill("0912 345 678")
        page.locator("#agree-sms").check()
        page.get_by_role("button", name="Đồng ý nhận tin nhắn SMS").click()
        page.wait_for_load_state()
        assert "Đã ghi nhận đồng ý nhận thông báo qua tin nhắn SMS." in page.inner_text("main")
        assert "Đang nhận" in page.inner_text("main")
        check_page(page, "cai-dat-da-dong-y", journey=JOURNEY)

        services.accept(dossier, actor=officers["xa_a"]["counter_officer"])
        outbox.deliver_due()  # the worker's minute
        received = httpx.get(f"{gateway}/messages", params={"phone": PHONE}, timeout=10).json()
        assert len(received) == 1, received
        assert received[0]["text"].startswith(f"Hồ sơ {dossier.code} đã được tiếp nhận, hẹn trả ")

        page.goto("/ca-nhan/")
        page.get_by_role("link", name="Thông báo (1 mới)").click()
        page.wait_for_url("**/ca-nhan/thong-bao/")
        assert f"Hồ sơ {dossier.code} đã được tiếp nhận" in page.inner_text("main")
        check_page(page, "thong-bao", journey=JOURNEY)
        page.get_by_role("link", name=f"Hồ sơ {dossier.code} đã được tiếp nhận").click()
        page.wait_for_url(f"**/tra-cuu/?ma={dossier.code}")
        assert page.get_by_role("link", name="Thông báo", exact=True).is_visible()  # read: no count left
    finally:
        process.terminate()
        process.wait(timeout=10)

"""Paying a fee online in a real browser, on a phone (issue 19, "Done when"): the citizen opens the
dossier's payment page from "Hồ sơ của tôi", goes to the payment platform (the simulator, its own
process), clicks "Thanh toán", comes back to a page showing the payment the platform confirmed, and
downloads the receipt; then the counter officer sees it in the reconciliation page. Every page of
ours passes check_page (axe-core, weight, no sideways scrolling)."""

from chinhquyenso.dossiers.models import Payment
from chinhquyenso.payments.models import PaymentOrder
from tests.browser.support import check_page, sign_in
from tests.datasets import PAPER
from tests.payments.conftest import start_simulator

JOURNEY = "thanh-toan"


def test_a_citizen_pays_a_fee_through_the_simulator(
    new_browser_page, live_server, settings, birth_procedure, citizen, officers
):
    from chinhquyenso.dossiers import services as dossiers

    process, simulator = start_simulator(settings, live_server.url)
    try:
        dossier = dossiers.submit(
            actor=citizen, procedure_code="1.001193", channel="online", agency_code="xa-kien-an", components=PAPER
        )
        page = new_browser_page()  # 360×740
        sign_in(page, citizen.identity_number, "Cong-dan-2025")
        page.goto("/ca-nhan/")
        page.get_by_role("link", name=f"Thanh toán trực tuyến hồ sơ {dossier.code}").click()
        page.wait_for_url(f"**/ho-so/{dossier.code}/thanh-toan/")
        assert "4.000 đồng" in page.inner_text("main") and "Giảm 50%" in page.inner_text("main")
        check_page(page, "thanh-toan", journey=JOURNEY)

        page.get_by_role("button", name="Thanh toán trực tuyến").click()
        page.wait_for_url(f"{simulator.url}/pay/**")
        assert "4.000 đồng" in page.inner_text("main")
        page.get_by_role("button", name="Thanh toán", exact=True).click()
        page.wait_for_url("**/thanh-toan/TT*/")
        order = PaymentOrder.objects.get()
        assert f"Đã thanh toán 4.000 đồng, mã giao dịch {order.transaction_ref}." in page.inner_text("main")
        assert order.verified_by == "callback" and Payment.objects.get().transaction_ref == order.transaction_ref
        check_page(page, "thanh-toan-ket-qua", journey=JOURNEY)
        receipt = page.get_by_role("link", name="Tải biên lai điện tử (PDF)").get_attribute("href")
        pdf = page.request.get(receipt)  # with the citizen's session
        assert pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

        officer = new_browser_page(desktop=True)
        sign_in(officer, "xa_a.counter_officer", "Mat-khau-2025")
        officer.goto("/can-bo/thanh-toan/doi-soat/")
        officer.get_by_label("Đối chiếu với sao kê của nền tảng thanh toán").check()
        officer.get_by_role("button", name="Xem").click()
        officer.wait_for_load_state()
        text = officer.inner_text("main")
        assert dossier.code in text and "Không có chênh lệch" in text
        check_page(officer, "doi-soat", journey=JOURNEY)
    finally:
        process.terminate()
        process.wait(timeout=10)

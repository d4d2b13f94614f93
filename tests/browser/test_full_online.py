"""Issue 19's first "Done when" journey in one piece, on a phone, against the three national systems'
simulators, each its own process: a citizen signs in through the simulated VNeID, agrees to SMS,
fills the birth-registration e-form in the wizard, pays the fee online through the payment
platform simulator, receives an SMS when the officer accepts, and finds the result in the e-data
store with whose it is. The separate journeys (test_oidc, test_eforms, test_payment,
test_notifications) check each page's details; this one checks that they join up."""

import re

import httpx

from chinhquyenso.accounts import oidc, oidc_simulator
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, Payment
from chinhquyenso.exchange import outbox
from chinhquyenso.procedures import services as procedures
from tests.browser.support import check_page, minimal_pdf
from tests.browser.test_notifications import start_sms_simulator
from tests.payments.conftest import start_simulator

JOURNEY = "truc-tuyen-toan-trinh"
PHONE = "0912345678"


def label(text: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(text)}( \*)?$")


def test_vneid_eform_payment_sms_and_the_result_in_the_edata_store(
    page, new_browser_page, live_server, settings, birth_procedure, citizen, officers, admin_user, tmp_path
):
    procedures.load_forms(actor=admin_user, codes=["1.001193"])
    vneid, vneid_url = oidc_simulator.spawn("--client-id", "cqs-journey", "--client-secret", "journey-secret")
    payment_process, payment_platform = start_simulator(settings, live_server.url)
    sms_process, sms_gateway = start_sms_simulator(settings)
    settings.CQS = {
        **settings.CQS,
        "OIDC_DISCOVERY_URL": f"{vneid_url}/.well-known/openid-configuration",
        "OIDC_CLIENT_ID": "cqs-journey",
        "OIDC_CLIENT_SECRET": "journey-secret",
    }
    oidc.forget_provider()
    certificate = tmp_path / "giay-chung-sinh.pdf"
    certificate.write_bytes(minimal_pdf("Giay chung sinh"))
    try:
        # VNeID: the citizen's existing account (same citizen ID) is the one signed in.
        page.goto("/dang-nhap/?next=/ca-nhan/thong-bao/cai-dat/")
        with page.expect_navigation():
            page.get_by_role("link", name="Đăng nhập bằng VNeID").click()
        page.get_by_label("Số định danh cá nhân").fill(citizen.identity_number)
        page.get_by_label("Họ và tên").fill(citizen.full_name)
        with page.expect_navigation(url="**/ca-nhan/thong-bao/cai-dat/"):
            page.get_by_role("button", name="Đồng ý").click()
        page.get_by_label("Số điện thoại nhận tin nhắn").fill(PHONE)
        page.locator("#agree-sms").check()
        page.get_by_role("button", name="Đồng ý nhận tin nhắn SMS").click()
        page.wait_for_load_state()
        assert "Đang nhận" in page.inner_text("main")

        # The wizard: applicant and agency, the e-form, the other papers, review, submit.
        page.goto(f"/thu-tuc/{birth_procedure.code}/")
        page.get_by_role("link", name="Nộp hồ sơ trực tuyến").click()
        page.wait_for_url("**/nop-ho-so/*/nguoi-nop/")
        page.get_by_label("Cơ quan nhận hồ sơ").select_option(label="UBND xã Kiến An")
        page.get_by_label("Số điện thoại").fill(PHONE)
        page.get_by_label("Địa chỉ liên hệ").fill("Ấp Long Hòa, xã Kiến An")
        page.get_by_role("button", name="Lưu và tiếp tục").click()
        page.wait_for_url("**/nop-ho-so/*/to-khai/")
        page.get_by_label(label("Quan hệ với người được khai")).select_option("Mẹ")
        page.get_by_label(label("Họ, chữ đệm, tên")).fill("Nguyễn Văn An")
        page.get_by_label(label("Ngày, tháng, năm sinh")).fill("01/02/2026")
        page.get_by_role("radio", name="Nam").check()
        page.get_by_label(label("Dân tộc")).fill("Kinh")
        page.get_by_label(label("Quốc tịch")).fill("Việt Nam")
        page.get_by_label(label("Nơi sinh")).fill("Bệnh viện Đa khoa khu vực tỉnh An Giang")
        check_page(page, "to-khai", journey=JOURNEY)
        page.get_by_role("button", name="Lưu và tiếp tục").click()
        page.wait_for_url("**/nop-ho-so/*/giay-to/")
        page.get_by_role("group", name="Giấy chứng sinh", exact=True).get_by_label("Tải lên tệp").set_input_files(
            certificate
        )
        page.get_by_role("button", name="Lưu và tiếp tục").click()
        page.wait_for_url("**/nop-ho-so/*/xem-lai/")
        review = page.inner_text("main")
        assert "UBND xã Kiến An" in review and "Nguyễn Văn An" in review
        page.get_by_label("Tôi cam đoan thông tin khai trên là đúng sự thật.").check()
        page.get_by_role("button", name="Nộp hồ sơ").click()
        page.wait_for_url("**/ho-so/*/bien-nhan/")
        dossier = Dossier.objects.get()
        assert dossier.form_data["values"]["ho_ten"] == "Nguyễn Văn An"

        # The fee, online, through the payment platform: recorded as the platform confirmed it.
        page.get_by_role("link", name="Thanh toán trực tuyến").click()
        page.wait_for_url(f"**/ho-so/{dossier.code}/thanh-toan/")
        page.get_by_role("button", name="Thanh toán trực tuyến").click()
        page.wait_for_url(f"{payment_platform.url}/pay/**")
        page.get_by_role("button", name="Thanh toán", exact=True).click()
        page.wait_for_url("**/thanh-toan/TT*/")
        assert "Đã thanh toán 4.000 đồng" in page.inner_text("main")
        assert Payment.objects.get(dossier=dossier).method == "online"

        # The officer accepts: the worker's step sends the SMS the citizen agreed to.
        services.accept(dossier, actor=officers["xa_a"]["counter_officer"])
        outbox.deliver_due()
        received = httpx.get(f"{sms_gateway}/messages", params={"phone": PHONE}, timeout=10).json()
        assert len(received) == 1, received
        assert received[0]["text"].startswith(f"Hồ sơ {dossier.code} đã được tiếp nhận, hẹn trả ")

        # Handled, the e-result issued: the e-data store says whose birth certificate it is.
        services.forward(dossier, actor=officers["xa_a"]["specialist"])
        result = store_upload(minimal_pdf("Giay khai sinh"), original_name="gks.pdf", user=officers["xa_a"]["leader"])
        services.attach_result(dossier, actor=officers["xa_a"]["leader"], file=result, number="12/GKS")
        page.goto("/ca-nhan/kho-du-lieu/")
        assert "Nguyễn Văn An, sinh ngày 01/02/2026" in page.inner_text("main")
        check_page(page, "kho-du-lieu", journey=JOURNEY)
    finally:
        for process in (vneid, payment_process, sms_process):
            process.terminate()
            process.wait(timeout=10)
        oidc.forget_provider()

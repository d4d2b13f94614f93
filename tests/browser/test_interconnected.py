"""Liên thông in a real browser, on a phone: a citizen applies once for a newborn's birth registration,
permanent residence and health-insurance card; the commune approves the birth registration; the
simulated police residence system and Vietnam Social Security (separate processes, through the real
bus and our `/r1/` endpoint) answer; the citizen's one timeline shows all three parts and their
results. Every page of ours passes check_page (axe-core, weight, no sideways scrolling)."""

from django.db import OperationalError

from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import GroupApplication, PartStatus
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.bus import registry
from chinhquyenso.exchange.connectors import testing
from chinhquyenso.exchange.models import Message
from tests.browser.support import check_page, sign_in
from tests.dossiers.test_interconnect import BIRTH, make_group

JOURNEY = "lien-thong"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def _deliver_all():
    for _ in range(5):
        if not Message.objects.filter(channel=Message.Channel.BUS, state=Message.State.PENDING).exists():
            return
        outbox.deliver_due()


def _all_done(application) -> bool:
    try:
        return application.parts.filter(status=PartStatus.DONE).count() == 3
    except OperationalError:  # SQLite's shared in-memory test database, busy with the live server
        return False


def test_a_citizen_applies_for_a_newborn_and_follows_every_part(
    new_browser_page, live_server, settings, province, officers, citizen, admin_user, tmp_path
):
    registry.load_defaults()
    registry.invalidate()
    make_group(admin_user, province)
    with (
        testing.start_simulator("residence", bus_url=live_server.url, delay=0.1) as residence,
        testing.start_simulator("social_insurance", bus_url=live_server.url, delay=0.1),
    ):
        page = new_browser_page()  # 360×740
        sign_in(page, citizen.identity_number, "Cong-dan-2025")
        page.goto("/lien-thong/")
        check_page(page, "lien-thong", journey=JOURNEY)
        page.get_by_role("link", name="Nộp hồ sơ liên thông").click()
        page.wait_for_url("**/lien-thong/lien-thong-khai-sinh/nop/")
        check_page(page, "lien-thong-nop", journey=JOURNEY)

        page.get_by_label("Số điện thoại").fill("0912345678")
        page.get_by_label("Cơ quan nhận hồ sơ").select_option(label="UBND xã Kiến An")
        page.get_by_label("Họ, chữ đệm và tên của trẻ").fill("Nguyễn Minh An")
        page.get_by_label("Ngày sinh").fill("2025-03-01")
        page.get_by_label("Giới tính").select_option("Nam")
        page.get_by_label("Nơi sinh").fill("Bệnh viện Đa khoa tỉnh An Giang")
        page.get_by_label("Họ, chữ đệm và tên người mẹ").fill("Nguyễn Thị Hoà")
        page.get_by_label("Quan hệ của người nộp với trẻ").select_option("Mẹ")
        page.get_by_label("Địa chỉ đăng ký thường trú cho trẻ").fill(
            "Ấp Kiến Hưng, xã Kiến An, huyện Chợ Mới, tỉnh An Giang"
        )
        page.get_by_label("Số định danh cá nhân của chủ hộ").fill("089012345678")
        for n, label in enumerate(("Tờ khai đăng ký khai sinh", "Giấy chứng sinh"), start=1):
            file = tmp_path / f"{n}.pdf"
            file.write_bytes(PDF)
            page.get_by_label(label).set_input_files(str(file))
        page.get_by_role("button", name="Nộp hồ sơ liên thông").click()
        page.wait_for_url("**/ho-so-lien-thong/**")
        text = page.inner_text("main")
        assert text.count("Chờ kết quả thủ tục trước") == 2 and "Hạn hoàn thành cả hồ sơ" in text
        check_page(page, "lien-thong-dong-thoi-gian", journey=JOURNEY)

        # The commune approves the birth registration (through the service, as the officer would).
        application = GroupApplication.objects.get()
        birth = application.parts.get(procedure_code=BIRTH).dossier
        xa = officers["xa_a"]
        services.accept(birth, actor=xa["counter_officer"])
        services.forward(birth, actor=xa["specialist"])
        services.forward(birth, actor=xa["leader"])
        _deliver_all()
        residence.wait(lambda: _all_done(application), timeout=40, what="all three parts done")

        page.reload()
        text = page.inner_text("main")
        assert text.count("Đã có kết quả") >= 3
        home = application.parts.get(procedure_code="2.900119")
        card = application.parts.get(procedure_code="2.900123")
        for expected in (birth.code, home.result["number"], card.result["number"], "Xác nhận đăng ký thường trú"):
            assert expected in text
        assert "Hoàn thành" in text
        check_page(page, "lien-thong-ket-qua", journey=JOURNEY)

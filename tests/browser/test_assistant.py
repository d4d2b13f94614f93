"""The procedure assistant in a real browser, on a phone (issue 18, "Done when"): a citizen asks
three questions in a row in the chat — a question that finds a procedure, a follow-up about its
fee, a dossier code, and one the catalog cannot answer; the unanswered question appears in the
maintainers' list, a maintainer adds a synonym from it, and the same question then finds the
procedure. Every chat page passes `check_page` (axe-core, weight, no sideways scrolling)."""

from chinhquyenso.assistant import index, services
from chinhquyenso.dossiers import services as dossiers
from tests.browser.support import check_page, sign_in
from tests.conftest import make_procedure

JOURNEY = "tro-ly"
UNKNOWN = "làm giấy chào đời cho em bé"


def ask(page, question: str) -> str:
    """Type a question in the chat and return the text of the newest answer."""
    page.get_by_label("Câu hỏi của bạn").fill(question)
    turns = page.locator("#tro-ly-lich-su .card").count()
    page.get_by_role("button", name="Hỏi").click()
    page.locator("#tro-ly-lich-su .card").nth(turns).wait_for()
    return page.locator("#tro-ly-lich-su .card").nth(turns).inner_text()


def test_three_questions_then_a_maintainer_teaches_the_assistant(
    new_browser_page, province, admin_user, officers, citizen
):
    birth = make_procedure(
        admin_user, [province["xa_a"]], fee=0, charge=8000, online_discount_percent=50, legal_basis="Luật Hộ tịch 2014."
    )
    services.load_synonyms(actor=admin_user)
    index.invalidate()
    dossier = dossiers.submit(
        actor=citizen,
        procedure_code=birth.code,
        channel="online",
        agency_code="xa-kien-an",
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
    )

    page = new_browser_page()  # 360×740, a low-end phone
    page.goto("/")
    page.get_by_role("link", name="Hỏi trợ lý thủ tục (24/7)").click()
    page.wait_for_url("**/tro-ly/")
    check_page(page, "tro-ly", journey=JOURNEY)

    first = ask(page, "làm giấy khai sinh cho con cần giấy tờ gì")
    assert birth.name in first and f"mã {birth.code}" in first
    fee = ask(page, "còn lệ phí thì sao?")  # a follow-up: the procedure found before
    assert birth.name in fee and "8.000 đồng" in fee and "4.000 đồng" in fee
    status = ask(page, f"hồ sơ {dossier.code} tới đâu rồi")
    assert dossier.code in status and citizen.full_name not in status
    unknown = ask(page, UNKNOWN)
    assert "chưa chắc chắn" in unknown
    check_page(page, "tro-ly-4-cau", journey=JOURNEY)

    # The catalog maintainer finds the question, teaches the assistant what people mean.
    maintainer = new_browser_page(desktop=True)
    sign_in(maintainer, "qt.tinh", "Mat-khau-2025")
    maintainer.goto("/can-bo/tro-ly/cau-hoi-chua-tra-loi/")
    card = maintainer.locator("section.card", has_text=UNKNOWN)
    card.locator("summary", has_text="Thêm từ đồng nghĩa").click()
    card.get_by_label("Cách người dân gọi").fill("giấy chào đời")
    card.get_by_label("Từ ngữ trong danh mục (tên thủ tục, giấy tờ, kết quả)").fill("đăng ký khai sinh")
    with maintainer.expect_navigation():
        card.get_by_role("button", name="Thêm và đánh dấu đã xử lý").click()
    assert UNKNOWN not in maintainer.locator("main").inner_text()

    # The same question, asked again, now finds the procedure.
    again = ask(page, UNKNOWN)
    assert birth.name in again and "chưa chắc chắn" not in again

"""Smoke test of the browser test set-up: a citizen on a phone searches the
procedure catalog from the home page, without diacritics."""

from tests.browser.support import check_page, check_reflow


def test_citizen_finds_birth_registration_on_a_phone(page, birth_procedure):
    response = page.goto("/")
    assert response.status == 200, f"GET / answered {response.status}"
    assert page.evaluate(
        "() => document.styleSheets.length > 0 && [...document.styleSheets].every(s => s.cssRules.length > 0)"
    ), "the stylesheet was not served by the live server"

    search = page.get_by_role("search").first
    search.locator("input[name=q]").fill("dang ky khai sinh")
    with page.expect_navigation():
        search.locator("input[name=q]").press("Enter")

    results = page.locator("ul.results li")
    assert results.count() == 1
    assert "Đăng ký khai sinh" in results.first.inner_text()
    check_page(page, "ket-qua-tra-cuu", journey="smoke-tra-cuu-thu-tuc")
    check_reflow(page)

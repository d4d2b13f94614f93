"""A citizen signs in through the simulated VNeID on a phone (issue 19, "Done when"): the sign-in
page's button, the provider's consent page (the simulator, its own process), back to the platform
signed in, with a new citizen account linked to the national identity. The platform's pages pass
`check_page` (axe-core, weight, no sideways scrolling)."""

import pytest

from chinhquyenso.accounts import oidc, oidc_simulator
from chinhquyenso.accounts.models import IdentityLink, User
from tests.browser.support import check_page

JOURNEY = "dang-nhap-vneid"
PERSON, NAME = "001095067890", "Phạm Thị Lan"


@pytest.fixture
def vneid(settings):
    """The VNeID simulator on a free port; the platform (the live server, same process) points at it."""
    process, url = oidc_simulator.spawn("--client-id", "cqs-browser", "--client-secret", "browser-secret")
    try:
        settings.CQS = {
            **settings.CQS,
            "OIDC_DISCOVERY_URL": f"{url}/.well-known/openid-configuration",
            "OIDC_CLIENT_ID": "cqs-browser",
            "OIDC_CLIENT_SECRET": "browser-secret",
        }
        oidc.forget_provider()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        oidc.forget_provider()


def test_a_citizen_signs_in_with_vneid_on_a_phone(page, vneid):
    page.goto("/dang-nhap/?next=/ca-nhan/kho-du-lieu/")
    check_page(page, "dang-nhap", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("link", name="Đăng nhập bằng VNeID").click()
    assert page.url.startswith(vneid + "/authorize?")

    # The provider's page (the simulator): the citizen types their ID and name and consents.
    page.get_by_label("Số định danh cá nhân").fill(PERSON)
    page.get_by_label("Họ và tên").fill(NAME)
    with page.expect_navigation(url="**/ca-nhan/kho-du-lieu/"):
        page.get_by_role("button", name="Đồng ý").click()

    assert page.get_by_role("button", name=f"Đăng xuất ({NAME})").is_visible()
    check_page(page, "kho-du-lieu-sau-dang-nhap", journey=JOURNEY)
    user = User.objects.get(identity_number=PERSON)
    assert user.kind == User.Kind.CITIZEN and user.full_name == NAME
    assert IdentityLink.objects.filter(user=user, issuer=vneid).exists()

    # Signed out and in again: the same account, without typing a password on the platform.
    with page.expect_navigation():
        page.get_by_role("button", name=f"Đăng xuất ({NAME})").click()
    page.goto("/dang-nhap/")
    with page.expect_navigation():
        page.get_by_role("link", name="Đăng nhập bằng VNeID").click()
    page.get_by_label("Số định danh cá nhân").fill(PERSON)
    page.get_by_label("Họ và tên").fill(NAME)
    with page.expect_navigation(url="**/ca-nhan/"):
        page.get_by_role("button", name="Đồng ý").click()
    check_page(page, "ho-so-cua-toi", journey=JOURNEY)
    assert User.objects.filter(identity_number=PERSON).count() == 1

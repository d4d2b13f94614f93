"""Anyone checks a signed PDF on the public page /xac-thuc/ from a phone: the form and the result pass
axe-core (WCAG 2.1 AA), the page budget and the phone's width; a tampered file says so."""

import pytest

from chinhquyenso.signing.pki import sample_pdf
from tests.browser.support import check_page, check_reflow
from tests.signing.verify_support import from_shared, sign


@pytest.fixture
def signed_files(tmp_path, settings, test_pki):
    pki = from_shared(test_pki)
    settings.CQS = {**settings.CQS, "SIGNING_TRUST_ROOTS": [str(pki.root_path)], "SIGNING_FETCH_REVOCATION": False}
    signed = sign(sample_pdf(), pki.pyhanko_signer(), timestamper=pki.timestamper())
    at = signed.index(b"trang 1")
    good, tampered = tmp_path / "da-ky.pdf", tmp_path / "bi-sua.pdf"
    good.write_bytes(signed)
    tampered.write_bytes(signed[:at] + b"trang 8" + signed[at + 7 :])
    return good, tampered


def test_anyone_verifies_a_signed_pdf_on_a_phone(page, signed_files):
    good, tampered = signed_files
    response = page.goto("/xac-thuc/")
    assert response.status == 200
    check_page(page, "xac-thuc", journey="kiem-tra-chu-ky")

    page.get_by_label("Tệp PDF cần kiểm tra").set_input_files(str(good))
    with page.expect_navigation():
        page.get_by_role("button", name="Kiểm tra", exact=True).click()
    result = page.get_by_role("status").inner_text()
    assert "Chữ ký hợp lệ" in result
    assert "Sở Tư pháp Thử Nghiệm" in page.inner_text("main")
    check_page(page, "xac-thuc-hop-le", journey="kiem-tra-chu-ky")
    check_reflow(page)

    page.get_by_label("Tệp PDF cần kiểm tra").set_input_files(str(tampered))
    with page.expect_navigation():
        page.get_by_role("button", name="Kiểm tra", exact=True).click()
    assert "Tài liệu đã bị sửa sau khi ký" in page.get_by_role("status").inner_text()
    check_page(page, "xac-thuc-bi-sua", journey="kiem-tra-chu-ky")

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_catalog_page_searches_without_diacritics(birth_procedure):
    page = Client().get("/", {"q": "dang ky khai sinh"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Đăng ký khai sinh" in html and "1 thủ tục phù hợp" in html
    assert "cdn" not in html.lower()

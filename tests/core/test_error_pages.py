"""One mapping from domain errors to the Vietnamese pages (core.middleware.DomainErrorPages)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory

from chinhquyenso.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from chinhquyenso.core.middleware import DomainErrorPages

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error, status, title, shown",
    [
        (PermissionDenied("Chỉ lãnh đạo cơ quan được duyệt."), 403, "Không có quyền truy cập", True),
        (Conflict("Hồ sơ vừa được người khác xử lý."), 409, "Chưa thực hiện được", True),
        (DomainError("Ngày không hợp lệ.", "ngay"), 400, "Yêu cầu chưa hợp lệ", True),
        (NotFound("Không tìm thấy hồ sơ 000.00.15.H01-250310-0001."), 404, "Không tìm thấy", False),
    ],
)
def test_each_domain_error_becomes_its_page(error, status, title, shown):
    request = RequestFactory().get("/can-bo/")
    request.user = AnonymousUser()
    response = DomainErrorPages(lambda r: None).process_exception(request, error)
    text = response.content.decode()
    assert response.status_code == status and title in text
    # A 404 never repeats what was asked for: another agency's record reads as absent.
    assert (error.message in text) is shown


def test_other_exceptions_are_left_to_django():
    assert DomainErrorPages(lambda r: None).process_exception(RequestFactory().get("/"), ValueError("x")) is None


def test_a_citizen_on_an_officers_page_gets_the_reason(citizen):
    client = Client()
    client.force_login(citizen)
    response = client.get("/can-bo/")
    assert response.status_code == 403
    assert "Trang này chỉ dành cho cán bộ, công chức có phân công tại cơ quan." in response.content.decode()


def test_another_agencys_dossier_is_not_found(officers):
    client = Client()
    client.force_login(officers["xa_a"]["specialist"])
    response = client.get("/can-bo/ho-so/000.00.15.H01-250310-0001/")
    assert response.status_code == 404 and "Không tìm thấy" in response.content.decode()


def test_bad_offset_on_a_page_is_the_vietnamese_400_page(officers):
    client = Client(raise_request_exception=False)
    client.force_login(officers["xa_a"]["specialist"])
    response = client.get("/can-bo/?tu=²")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "Yêu cầu chưa hợp lệ" in response.content.decode() and "Trường “tu”" in response.content.decode()


def test_an_unexpected_failure_on_a_page_is_the_vietnamese_500_page(db, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("chinhquyenso.procedures.selectors.search_procedures", fail)
    monkeypatch.setattr("chinhquyenso.assistant.index.search", fail)  # a query is ranked by the assistant's index
    response = Client(raise_request_exception=False).get("/thu-tuc/?q=khai")
    assert response.status_code == 500, response.content[:300]
    text = response.content.decode()
    assert "Hệ thống đang gặp sự cố" in text and "boom" not in text

"""The IOC dashboard's feedback section: the period's resolution rate and
late rate, from the feedback reports themselves (indicators
feedback_resolution_rate and feedback_late_rate)."""

import re

import pytest
from django.test import Client

from chinhquyenso.feedback import services
from tests.conftest import vn

pytestmark = pytest.mark.django_db


def tile(html: str, key: str) -> str:
    found = re.search(rf'<li class="tile" id="o-{key}">(.*?)</li>', html, flags=re.S)
    assert found, f"tile {key} missing"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_dashboard_shows_feedback_resolution_and_late_rates(registry, report, officers, admin_user):
    specialist = officers["xa_a"]["specialist"]
    on_time = report(at=vn(2025, 1, 6, 9), description="Rác ở chợ.")
    late = report(at=vn(2025, 1, 6, 10), description="Rác ở bến đò.")
    report(at=vn(2025, 2, 3, 9), description="Rác ở kênh, chưa xử lý.")
    report(at=vn(2024, 12, 2, 9), description="Rác năm trước.")  # the previous quarter: received, never resolved
    services.resolve(on_time, actor=specialist, public_reply="Đã thu gom.", at=vn(2025, 1, 10, 9))
    services.resolve(late, actor=specialist, public_reply="Đã thu gom, muộn.", at=vn(2025, 3, 20, 9))

    client = Client()
    client.force_login(admin_user)
    html = client.get("/dieu-hanh/", {"ky": "2025-Q1"}).content.decode()
    assert '<h2 id="phan-anh">Phản ánh, kiến nghị</h2>' in html
    assert tile(html, "feedback_resolution_rate").startswith("Phản ánh đã xử lý xong 66,7% 2/3 phản ánh")
    late_tile = tile(html, "feedback_late_rate")
    assert late_tile.startswith("Phản ánh xử lý quá hạn 50,0% 1/2 phản ánh") and "Kỳ trước: —" in late_tile
    # The previous quarter: one received, none resolved → 0,0%; the change is told in words.
    assert "▲ tăng 66,7 điểm phần trăm — tốt hơn" in tile(html, "feedback_resolution_rate")
    # The commune's own view has the same figures (its reports).
    commune = client.get("/dieu-hanh/co-quan/xa-kien-an/", {"ky": "2025-Q1"}).content.decode()
    assert "2/3 phản ánh" in tile(commune, "feedback_resolution_rate")
    other = client.get("/dieu-hanh/co-quan/xa-kien-thanh/", {"ky": "2025-Q1"}).content.decode()
    assert tile(other, "feedback_resolution_rate").startswith("Phản ánh đã xử lý xong —")
    # The same figures through the API.
    for path in ("/api/dashboard", "/api/dashboard/tiles"):
        data = {t["key"]: t for t in client.get(path, {"period": "2025-Q1"}).json()["feedback_tiles"]}
        assert data["feedback_resolution_rate"]["display"] == "66,7%"
        assert data["feedback_late_rate"]["detail"] == "1/2 phản ánh"

"""Personal data typed into a report's texts (Decree 13/2023): masked on every
public rendering — list, map, report page, Open311 JSON and XML, the public
timeline — and shown as typed to the officer who handles the report.

The masking rules themselves (which numbers count as ID numbers or phones)
are in tests/privacy/test_masking_rules.py."""

import pytest
from django.test import Client

from chinhquyenso.feedback import services
from chinhquyenso.feedback.models import Feedback

pytestmark = pytest.mark.django_db

CCCD, PHONE, EMAIL = "089012345678", "0912 345 678", "nguoi.dan@gmail.com"
REPLY_PHONE = "+84 987 654 321"
DESCRIPTION = f"Gọi {PHONE}, CCCD {CCCD}, thư {EMAIL}: rác ven kênh bốc mùi."
PRIVATE = (CCCD, PHONE, "0912345678", EMAIL, REPLY_PHONE)
HINTS = ("09******78", "*********678", "n***@gmail.com")


@pytest.fixture
def published(report, officers):
    # Filed by a signed-in citizen in Kiến An: routed to its commune, handled there.
    feedback = report(description=DESCRIPTION, latitude="10.480100", longitude="105.480100")
    holder = officers["xa_a"]["specialist"]
    services.start(feedback, actor=holder)
    services.resolve(feedback, actor=holder, public_reply=f"Đã thu gom; cần thêm thông tin xin gọi {REPLY_PHONE}.")
    feedback.refresh_from_db()
    return feedback


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_public_renderings_mask_personal_data(published):
    code = published.code
    pages = {
        "list": _text(Client().get("/phan-anh/")),
        "report": _text(Client().get(f"/phan-anh/{code}/")),
        "map": _text(Client().get("/phan-anh/ban-do/")),
        "open311 list json": _text(Client().get("/open311/v2/requests.json", {"start_date": "2025-03-01"})),
        "open311 list xml": _text(Client().get("/open311/v2/requests.xml", {"start_date": "2025-03-01"})),
        "open311 one json": _text(Client().get(f"/open311/v2/requests/{code}.json")),
        "open311 one xml": _text(Client().get(f"/open311/v2/requests/{code}.xml")),
    }
    for name, page in pages.items():
        assert code in page, name
        for private in PRIVATE:
            assert private not in page, (name, private)
    # The hint stays readable where the description is shown.
    for name in ("list", "report", "open311 one json", "open311 one xml"):
        for hint in HINTS:
            assert hint in pages[name], (name, hint)
    assert "+84*******21" in pages["report"] and "+84*******21" in pages["open311 one json"]


def test_the_officer_and_the_database_keep_the_original(published, officers):
    client = Client()
    client.force_login(officers["xa_a"]["specialist"])
    page = _text(client.get(f"/can-bo/phan-anh/{published.code}/"))
    for private in (CCCD, PHONE, EMAIL, REPLY_PHONE):
        assert private in page
    assert Feedback.objects.get(pk=published.pk).description == DESCRIPTION


def test_a_public_search_by_personal_data_reveals_nothing(published, report):
    """The list shows the number masked; a search by the number itself must not tell which report
    holds it: the number is left out of the search, which answers as if it had not been typed."""
    from chinhquyenso.feedback.selectors import public_list

    other = report(description="Đèn đường hỏng trước chợ.", latitude="10.480200", longitude="105.480200")
    assert list(public_list(q="bốc mùi")) == [published]
    for private in ("0912345678", "0912 345 678", CCCD, EMAIL):
        assert set(public_list(q=private)) == {published, other}, private
        assert list(public_list(q=f"bốc mùi {private}")) == [published], private

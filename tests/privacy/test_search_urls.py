"""Searches with personal data keep it out of URLs (access logs, browser
history, Referer): the civil-register search posts its terms, the results
page carries only a short-lived token, pagination keeps working, and a URL
that carries a name or a birth date no longer searches."""

from urllib.parse import unquote_plus

import pytest

from chinhquyenso.civil_records import importer
from chinhquyenso.civil_records.models import ImportBatch
from tests.civil_records.test_views import BASE, HEADER, imported, signed_in, specialist, upload  # noqa: F401

pytestmark = pytest.mark.django_db
NAME, BORN = "nguyen van hoa", "01/05/1967"


def _urls_of(response) -> list[str]:
    """Every URL the exchange produced: redirects followed and the page's links."""
    html = response.content.decode()
    return [url for url, _ in response.redirect_chain] + [
        unquote_plus(part.split('"')[0]) for part in html.split('href="')[1:]
    ]


def test_register_search_terms_never_reach_a_url(imported, specialist):  # noqa: F811
    client = signed_in(specialist)
    response = client.post(BASE, {"q": NAME, "tu": BORN, "den": "31/05/1967"}, follow=True)
    assert response.status_code == 200 and "Nguyễn Văn Hòa" in response.content.decode()
    assert response.redirect_chain[0][0].startswith(f"{BASE}?tim=")
    for url in _urls_of(response):
        assert "nguyen" not in url.lower() and "1967" not in url and "hoa" not in url.lower(), url
    # The token alone brings the results back (reload, back button).
    again = client.get(response.redirect_chain[-1][0])
    assert "Nguyễn Văn Hòa" in again.content.decode()
    # Another session does not get them with the token.
    other = signed_in(specialist).get(response.redirect_chain[-1][0]).content.decode()
    assert "Nguyễn Văn Hòa" not in other and "Nhập họ tên hoặc chọn ít nhất một điều kiện" in other


def test_a_url_with_search_terms_does_not_search(imported, specialist):  # noqa: F811
    response = signed_in(specialist).get(BASE, {"q": NAME, "tu": BORN})
    assert response.status_code == 302 and response["Location"] == BASE


def test_pages_keep_only_the_token(province, specialist):  # noqa: F811
    rows = "".join(f"02,{n},1970,Nguyễn Thị Mai {n},Nữ,01/01/1970,Nguyễn Văn A,Trần Thị B\n" for n in range(1, 56))
    client = signed_in(specialist)
    upload(client, province["xa_a"], text=HEADER + rows)
    batch = ImportBatch.objects.get()
    importer.run_batch(batch, batch.file.path)
    first = client.post(BASE, {"q": "mai"}, follow=True)
    token = first.redirect_chain[-1][0].split("tim=")[1]
    html = first.content.decode()
    assert f"?tim={token}&amp;trang=2" in html and "q=" not in html.split("Kết quả")[1]
    second = client.get(f"{BASE}?tim={token}&trang=2").content.decode()
    assert second.count("Nguyễn Thị Mai") == 5 and "Trang trước" in second

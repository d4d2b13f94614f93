"""Full-text search: diacritic-insensitive both ways, over trích yếu, số/ký hiệu, sender and the PDF's
text (read by the job, outside transactions), ranked, scoped to the officer's agencies. Runs on the
database the suite runs on (SQLite FTS5; PostgreSQL full-text search with
DATABASE_URL=postgres://…): the same assertions hold on both."""

import pytest
from django.db import connection

from chinhquyenso.documents import search, selectors
from chinhquyenso.documents.models import Document
from chinhquyenso.documents.services import incoming as svc
from tests.conftest import vn

from .incoming_support import issued_outgoing, pdf_with_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(officers, province):
    clerk = officers["huyen"]["clerk"]

    def paper(excerpt, sender="Sở Tài nguyên và Môi trường", agency="huyen", **fields):
        return svc.register_incoming(
            officers[agency]["clerk"],
            agency=province[agency],
            document_type=fields.pop("document_type", "cong-van"),
            excerpt=excerpt,
            sender_name=sender,
            at=vn(2025, 3, 7, 9),
            **fields,
        )

    docs = {
        "decision": paper(
            "Quyết định về việc phê duyệt quy hoạch sử dụng đất năm 2025",
            document_type="quyet-dinh",
            symbol="12/QĐ-UBND",
        ),
        "salinity": paper(
            "Công văn đôn đốc báo cáo",
            sender="Sở Nông nghiệp và Phát triển nông thôn",
            file=pdf_with_text("Kế hoạch phòng, chống hạn hán, xâm nhập mặn mùa khô"),
        ),
        "hoa": paper("Về việc hoà giải ở cơ sở", sender="Sở Tư pháp"),
        # Another agency's documents, with the same words: never found by the district's officers.
        "foreign": paper(
            "Quyết định về việc phê duyệt quy hoạch sử dụng đất của xã", agency="xa_b", document_type="quyet-dinh"
        ),
    }
    assert clerk
    return docs


def found(user, query, **kwargs):
    return [d.pk for d in selectors.search(user, query, **kwargs).documents]


def test_with_and_without_diacritics(library, officers):
    officer = officers["huyen"]["specialist"]
    decision = library["decision"].pk
    for query in ["quyet dinh", "Quyết định", "QUYẾT ĐỊNH", "quyết dinh quy hoach", "12/QĐ-UBND", "12/qd-ubnd"]:
        assert found(officer, query) == [decision], query
    # đ folds to d; old- and new-style tone placement meet.
    assert found(officer, "hòa giải") == found(officer, "hoà giải") == found(officer, "hoa giai") == [library["hoa"].pk]
    # the sender is searched
    assert found(officer, "nong nghiep") == [library["salinity"].pk]
    # every word must be there
    assert found(officer, "quyet dinh hoa giai") == []


def test_the_pdf_text_is_searched(library, officers):
    officer = officers["huyen"]["specialist"]
    # read before the registration's transaction
    assert found(officer, "xam nhap man") == [library["salinity"].pk]
    assert found(officer, "hạn hán") == [library["salinity"].pk]


def test_documents_written_elsewhere_are_read_by_the_job(officers, province):
    outgoing = issued_outgoing(
        province["huyen"],
        excerpt="Kế hoạch tổ chức hội nghị",
        text="Nội dung: tổng kết công tác cải cách hành chính năm 2024",
        at=vn(2025, 3, 7, 9),
    )
    officer = officers["huyen"]["specialist"]
    assert found(officer, "cai cach hanh chinh") == []  # not read yet
    assert search.pending_extraction().filter(pk=outgoing.pk).exists()
    assert search.extract_pending() >= 1
    assert found(officer, "cai cach hanh chinh") == [outgoing.pk]
    assert found(officer, "hoi nghi", direction="outgoing") == [outgoing.pk]
    assert found(officer, "hoi nghi", direction="incoming") == []
    outgoing.refresh_from_db()
    assert "cải cách hành chính" in outgoing.content_text


def test_ranking_puts_the_excerpt_before_the_body(officers, province):
    in_body = svc.register_incoming(
        officers["huyen"]["clerk"],
        agency=province["huyen"],
        document_type="cong-van",
        excerpt="Công văn gửi các xã",
        sender_name="Sở Xây dựng",
        file=pdf_with_text("Nội dung có nhắc đến chuyển đổi số một lần"),
        at=vn(2025, 3, 7, 9),
    )
    in_excerpt = svc.register_incoming(
        officers["huyen"]["clerk"],
        agency=province["huyen"],
        document_type="ke-hoach",
        excerpt="Kế hoạch chuyển đổi số năm 2025",
        sender_name="Sở Khoa học và Công nghệ",
        at=vn(2025, 3, 7, 9),
    )
    page = selectors.search(officers["huyen"]["leader"], "chuyển đổi số")
    assert [d.pk for d in page.documents] == [in_excerpt.pk, in_body.pk] and page.total == 2
    assert page.query_words == ["chuyen", "doi", "so"]
    second = selectors.search(officers["huyen"]["leader"], "chuyển đổi số", offset=1, limit=1)
    assert [d.pk for d in second.documents] == [in_body.pk] and second.total == 2


def test_scope(library, officers, admin_user):
    query = "quy hoach su dung dat"
    assert found(officers["huyen"]["leader"], query) == [library["decision"].pk]
    assert found(officers["xa_b"]["specialist"], query) == [library["foreign"].pk]
    assert found(officers["tu_phap"]["leader"], query) == []  # a department sees neither
    assert sorted(found(admin_user, query)) == sorted([library["decision"].pk, library["foreign"].pk])
    from chinhquyenso.accounts import services as accounts

    citizen = accounts.create_citizen(identity_number="089099999999", full_name="Lê Văn Dân", password="Cong-dan-2025")
    assert found(citizen, query) == []


def test_a_document_assigned_to_a_unit_is_found_by_it(library, officers, province):
    """The district's document given to a commune under it opens, and is found, for that commune's
    officers (documents.scope.visible; search states it in SQL) — not for the sibling commune."""
    query = "quy hoach su dung dat"
    commune = officers["xa_a"]["specialist"]
    assert found(commune, query) == []
    svc.assign(
        library["decision"],
        officers["huyen"]["leader"],
        assignees=[svc.Assignee(agency_id=province["xa_a"].pk)],
        deadline_days=5,
        at=vn(2025, 3, 7, 10),
    )
    assert found(commune, query) == [library["decision"].pk]
    assert selectors.get_document(commune, library["decision"].pk) == library["decision"]
    assert found(officers["xa_b"]["specialist"], query) == [library["foreign"].pk]


def test_bounded_queries(library, officers):
    officer = officers["huyen"]["specialist"]
    assert selectors.search(officer, "").total == 0
    assert selectors.search(officer, "!!! —— ???").documents == []
    # No query syntax gets through: quotes and stars are dropped, OR is a word like any other.
    assert found(officer, '"quyet" dinh*') == [library["decision"].pk]
    assert found(officer, "quyet OR hoa") == [] and found(officer, "NEAR(quyet dinh)") == []
    long = "quyet dinh " + " ".join(f"tu{i}" for i in range(200))
    assert len(search.query_words(long)) == search.MAX_QUERY_WORDS
    assert selectors.search(officer, "x" * 10_000).total == 0


def test_rebuild_index(library, officers):
    Document.objects.update(search_text="")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM documents_search")
    officer = officers["huyen"]["specialist"]
    assert found(officer, "quyet dinh") == []
    assert search.rebuild_index() == 4
    assert found(officer, "quyet dinh") == [library["decision"].pk]
    assert found(officer, "xam nhap man") == [library["salinity"].pk]  # the stored PDF text is kept


def test_pdf_text_is_bounded():
    assert search.pdf_text(b"not a pdf") == ""
    assert search.pdf_text(b"%PDF-1.4 damaged") == ""
    assert search.pdf_text(b"%PDF" + b"0" * (search.MAX_PDF_BYTES + 1)) == ""
    assert "Quyết định" in search.pdf_text(pdf_with_text("Quyết định số 5"))


def test_past_the_rank_limit_the_newest_come_first(officers, province, monkeypatch):
    def paper(excerpt):
        return svc.register_incoming(
            officers["huyen"]["clerk"],
            agency=province["huyen"],
            document_type="cong-van",
            excerpt=excerpt,
            sender_name="Sở Xây dựng",
            at=vn(2025, 3, 7, 9),
        )

    best = paper("Kế hoạch kế hoạch kế hoạch")  # ranked first while ranking
    newest = paper("Báo cáo thực hiện kế hoạch năm 2024 và phương hướng nhiệm vụ năm 2025 của ngành")
    officer = officers["huyen"]["leader"]
    page = selectors.search(officer, "ke hoach")
    assert page.ranked and [d.pk for d in page.documents] == [best.pk, newest.pk]
    monkeypatch.setattr(search, "RANK_LIMIT", 1)
    page = selectors.search(officer, "ke hoach")
    assert not page.ranked and page.total == 2 and [d.pk for d in page.documents] == [newest.pk, best.pk]

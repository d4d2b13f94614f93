"""Full-text search over documents: trích yếu, số/ký hiệu, the sender, the signer and the text of
the PDF, Vietnamese diacritic-insensitive ("quyet dinh" finds "Quyết định"), ranked, scoped to the
officer's agencies.

What is searched is `Document.search_text`: the folded words (core.text.fold: lower case, no
diacritics, đ → d, then only the runs of letters and digits) of the document's metadata, a " | ",
then the folded words of its PDF text. Both databases therefore see the same plain ASCII words and
split them the same way; the query is folded the same way, so a word typed with or without its
marks meets the same stored word.

- PostgreSQL: a stored generated column `search_vector` (migration 0002) =
  `setweight(to_tsvector('simple', metadata), 'A') || setweight(to_tsvector('simple', text), 'D')`
  with a GIN index; a query is every word ANDed (`to_tsquery('simple', 'quyet & dinh')`), ranked
  with `ts_rank` (a word in the trích yếu or the symbol weighs more than one in the body).
  The column is invisible to Django (no field): the database keeps it in step with every write of
  `search_text`, whoever writes it.
- SQLite: an FTS5 table `documents_search(meta, body)` (tokenize unicode61, remove_diacritics 2),
  rowid = the document's id, written here next to `search_text` (no triggers: Django rebuilds a
  SQLite table to alter it, which would drop them); ranked with bm25, the metadata weighing 10.

`index_document` is cheap (no file is read) and runs inside the caller's transaction: every service
that creates or changes a document calls it. Reading the PDF is slow and may fail on a damaged file,
so it never runs in a request's transaction: `extract_pending` (the job `document_text_index`, every
few minutes) reads the text of documents whose file changed, a bounded number of pages and bytes,
outside any transaction, then indexes them."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from django.db import connection, transaction

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import fold
from chinhquyenso.documents.models import Assignment, Direction, Document
from chinhquyenso.documents.scope import scope_of

log = logging.getLogger(__name__)

SEPARATOR = " | "
FTS_TABLE = "documents_search"
# Bounds on reading a PDF (a 300-page annex is not searched past its first pages).
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 60
MAX_CONTENT_CHARS = 200_000
# Bounds on a query: a pasted paragraph is cut to its first words.
MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 12
MAX_WORD_CHARS = 60
EXTRACT_BATCH = 200
# Ranking reads every match's vector: past this many matches (a query of the commonest words,
# "quyet dinh" over a province's years) the newest come first instead, read from the primary key's
# order and stopped after the page (docs/benchmarks.md, full-text search).
RANK_LIMIT = 5000

_WORD = re.compile(r"[0-9a-z]+")


def words(text: str | None) -> list[str]:
    """The folded words of a text: "12/QĐ-UBND về Quy hoạch" → ["12", "qd", "ubnd", "ve", "quy", "hoach"]."""
    return _WORD.findall(fold(text))


def metadata_text(document: Document) -> str:
    """The searched metadata: number/symbol, type, trích yếu, sender, signer, arrival number."""
    parts = [
        document.symbol,
        str(document.number or ""),
        document.document_type.name if document.document_type_id else "",
        document.excerpt,
        document.sender_name,
        document.sender_code,
        document.signer_name,
        f"so den {document.arrival_number}" if document.arrival_number else "",
    ]
    return " ".join(words(" ".join(p for p in parts if p)))


def search_text_for(document: Document, content_text: str | None = None) -> str:
    content = document.content_text if content_text is None else content_text
    return metadata_text(document) + SEPARATOR + " ".join(words(content[:MAX_CONTENT_CHARS]))


def _write_fts(document_id: int, search_text: str) -> None:
    if connection.vendor != "sqlite":
        return  # PostgreSQL computes its generated column itself
    meta, _, body = search_text.partition(SEPARATOR)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [document_id])
        cursor.execute(f"INSERT INTO {FTS_TABLE} (rowid, meta, body) VALUES (%s, %s, %s)", [document_id, meta, body])


def index_document(document: Document, *, content_text: str | None = None) -> str:
    """Recompute the document's search text from its row (and `content_text`, the PDF's text when
    just extracted) and index it. Writes only the search columns, so it never overwrites what the
    caller's service saved; safe inside the caller's transaction."""
    text = search_text_for(document, content_text)
    fields = {"search_text": text}
    if content_text is not None:
        fields["content_text"] = content_text[:MAX_CONTENT_CHARS]
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(**fields)
        _write_fts(document.pk, text)
    document.search_text = text
    if content_text is not None:
        document.content_text = fields["content_text"]
    return text


def rebuild_index(batch: int = 2000) -> int:
    """Recompute every document's search text from its row and stored PDF text (after a change of
    the folding rules, or after documents were written in bulk). Returns how many."""
    done = 0
    last = 0
    while True:
        chunk = list(Document.objects.select_related("document_type").filter(pk__gt=last).order_by("pk")[:batch])
        if not chunk:
            return done
        with transaction.atomic():
            for document in chunk:
                index_document(document)
        done += len(chunk)
        last = chunk[-1].pk


# ---------------------------------------------------------------- PDF text (outside transactions)


def pdf_text(data: bytes) -> str:
    """The text of a PDF's first MAX_PDF_PAGES pages, at most MAX_CONTENT_CHARS characters; '' for a
    file too large, not a PDF, damaged, encrypted or scanned (images only)."""
    if len(data) > MAX_PDF_BYTES or not data.startswith(b"%PDF"):
        return ""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return ""
        out, size = [], 0
        for page in reader.pages[:MAX_PDF_PAGES]:
            text = page.extract_text() or ""
            out.append(text)
            size += len(text)
            if size >= MAX_CONTENT_CHARS:
                break
        return "\n".join(out)[:MAX_CONTENT_CHARS]
    except Exception as error:  # pypdf raises many kinds on damaged files; the document stays searchable by metadata
        log.warning("Không đọc được nội dung PDF: %s", type(error).__name__)
        return ""


def _extracted_marker_field() -> str | None:
    """The field that names the file `content_text` was read from, when the model has one."""
    return "content_sha256" if any(f.name == "content_sha256" for f in Document._meta.fields) else None


def pending_extraction():
    """Documents whose current file's text has not been read yet."""
    marker = _extracted_marker_field()
    qs = Document.objects.filter(current_file__isnull=False, current_file__content_type="application/pdf")
    if marker:
        from django.db.models import F

        return qs.exclude(**{marker: F("current_file__sha256")})
    return qs.filter(content_text="")


def extract_document(document: Document) -> str:
    """Read the document's current PDF (outside any transaction) and index its text."""
    from chinhquyenso.core.workflow import in_transaction

    if in_transaction():
        raise RuntimeError("Đọc nội dung PDF không được chạy trong giao dịch.")
    stored = document.current_file
    try:
        with stored.file.open("rb") as handle:
            data = handle.read(MAX_PDF_BYTES + 1)
    except OSError:
        data = b""
    text = pdf_text(data)
    with transaction.atomic():
        # The file may have changed meanwhile: index what the row says now, with the text read.
        fresh = Document.objects.select_related("document_type").select_for_update(of=("self",)).get(pk=document.pk)
        if fresh.current_file_id != stored.pk:
            return ""
        marker = _extracted_marker_field()
        if marker:
            Document.objects.filter(pk=fresh.pk).update(**{marker: stored.sha256})
        index_document(fresh, content_text=text)
    return text


def extract_pending(limit: int = EXTRACT_BATCH) -> int:
    """Read the PDFs of up to `limit` documents waiting for it; returns how many were read."""
    done = 0
    for document in pending_extraction().select_related("current_file", "document_type").order_by("pk")[:limit]:
        extract_document(document)
        done += 1
    return done


# ---------------------------------------------------------------- searching


@dataclass
class SearchPage:
    documents: list[Document]
    total: int
    query_words: list[str]
    ranked: bool = True  # False: more than RANK_LIMIT matches, newest first


def query_words(query: str) -> list[str]:
    """The folded words searched for (bounded)."""
    if len(query or "") > MAX_QUERY_CHARS:
        query = query[:MAX_QUERY_CHARS]
    return [w[:MAX_WORD_CHARS] for w in words(query)][:MAX_QUERY_WORDS]


def _scope_sql(user) -> tuple[str, list]:
    agencies = scope_of(user)
    if agencies is None:
        return "", []
    ids = sorted(agencies)
    if not ids:
        return " AND 1 = 0", []
    # documents.scope.visible in SQL: the agencies' own documents, and those assigned to one of them or to
    # the user (not cancelled).
    marks = ", ".join(["%s"] * len(ids))
    assignments = Assignment._meta.db_table
    sql = (
        f" AND (d.agency_id IN ({marks}) OR EXISTS (SELECT 1 FROM {assignments} a WHERE a.document_id = d.id"
        f" AND a.status <> %s AND (a.agency_id IN ({marks}) OR a.user_id = %s)))"
    )
    return sql, [*ids, Assignment.Status.CANCELLED, *ids, user.pk]


def _direction_sql(direction: str | None) -> tuple[str, list]:
    if direction is None:
        return "", []
    if direction not in Direction.values:
        raise DomainError("Chiều văn bản không hợp lệ.", "chieu")
    return " AND d.direction = %s", [direction]


def _ranked_ids(terms: list[str], where: str, params: list, limit: int, offset: int) -> tuple[list[int], int, bool]:
    table = Document._meta.db_table
    if connection.vendor == "postgresql":
        query = " & ".join(terms)
        match = f"FROM {table} d, to_tsquery('simple', %s) q WHERE d.search_vector @@ q{where}"
        by_rank = "ts_rank(d.search_vector, q) DESC, d.id DESC"
    else:
        query = " ".join(f'"{term}"' for term in terms)  # each a plain word: an implicit AND
        match = f"FROM {FTS_TABLE} s JOIN {table} d ON d.id = s.rowid WHERE {FTS_TABLE} MATCH %s{where}"
        by_rank = f"bm25({FTS_TABLE}, 10.0, 1.0), d.id DESC"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) {match}", [query, *params])
        total = cursor.fetchone()[0]
        ranked = total <= RANK_LIMIT
        order = by_rank if ranked else "d.id DESC"
        cursor.execute(f"SELECT d.id {match} ORDER BY {order} LIMIT %s OFFSET %s", [query, *params, limit, offset])
        ids = [row[0] for row in cursor.fetchall()]
    return ids, total, ranked


def search(user, query: str, *, direction: str | None = None, offset: int = 0, limit: int = 20) -> SearchPage:
    """The documents the officer may see that hold every word of `query`, best first (newest first
    when more than RANK_LIMIT match)."""
    terms = query_words(query)
    if not terms:
        return SearchPage([], 0, [])
    limit = max(1, min(int(limit), 100))
    offset = max(0, int(offset))
    scope, scope_params = _scope_sql(user)
    way, way_params = _direction_sql(direction)
    ids, total, ranked = _ranked_ids(terms, scope + way, scope_params + way_params, limit, offset)
    found = Document.objects.select_related("document_type", "agency", "sender_agency").in_bulk(ids)
    return SearchPage([found[i] for i in ids if i in found], total, terms, ranked)

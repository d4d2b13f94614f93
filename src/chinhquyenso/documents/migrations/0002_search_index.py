"""The full-text search index over documents (documents.search), one per database:

- PostgreSQL: a stored generated column `search_vector` (metadata weighted A, the PDF's text D)
  with a GIN index. Django has no field for it: the database computes it on every write of
  `search_text`.
- SQLite: an FTS5 table `documents_search(meta, body)`, rowid = the document's id, written by
  documents.search.index_document (no triggers: Django rebuilds a SQLite table to alter it and
  would drop them).

Both are filled from the documents already there."""

from django.db import migrations

PG_CREATE = """
ALTER TABLE documents_document ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, split_part(search_text, ' | ', 1)), 'A')
    || setweight(to_tsvector('simple'::regconfig, split_part(search_text, ' | ', 2)), 'D')
) STORED;
CREATE INDEX documents_search_vector_gin ON documents_document USING gin (search_vector);
"""
PG_DROP = """
DROP INDEX IF EXISTS documents_search_vector_gin;
ALTER TABLE documents_document DROP COLUMN IF EXISTS search_vector;
"""
SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE documents_search USING fts5(meta, body, tokenize = 'unicode61 remove_diacritics 2')"
)
SQLITE_DROP = "DROP TABLE IF EXISTS documents_search"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
        Document = apps.get_model("documents", "Document")
        for pk, text in Document.objects.exclude(search_text="").values_list("pk", "search_text").iterator():
            meta, _, body = text.partition(" | ")
            schema_editor.execute(
                "INSERT INTO documents_search (rowid, meta, body) VALUES (%s, %s, %s)", [pk, meta, body]
            )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]

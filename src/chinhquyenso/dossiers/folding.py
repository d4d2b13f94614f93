"""`Folded(expression)`: a text column folded in the database the way core.text.fold folds
Python strings (lower case, no diacritics, đ → d), so that "nguyen van an" finds
"Nguyễn Văn An" on PostgreSQL and SQLite alike, with no stored copy of the name to keep
in step with every write (the importer, the demo generator, a privacy rectification or
erasure all change applicant names).

- PostgreSQL (and any other database): LOWER(TRANSLATE(col, <accented letters>, <bare
  letters>)), the table built from core.text.fold over the Latin letters Vietnamese uses.
- SQLite: a deterministic function `cqs_fold` (core.text.fold itself) registered on the
  connection the first time a query needs it.
"""

from __future__ import annotations

from django.db.models import CharField, Func, Value

from chinhquyenso.core.text import fold

# Latin-1 Supplement, Latin Extended-A/B and Latin Extended Additional (ạ, ầ, ễ, ự …):
# every letter whose folded form is one ASCII letter.
_RANGES = (range(0xC0, 0x250), range(0x1E00, 0x1F00))
_PAIRS = [
    (ch, folded)
    for block in _RANGES
    for ch in map(chr, block)
    if (folded := fold(ch)) != ch.lower() and len(folded) == 1 and folded.isascii()
]
ACCENTED = "".join(ch for ch, _ in _PAIRS)
BARE = "".join(folded for _, folded in _PAIRS)


def _sqlite_fold(value):
    return None if value is None else fold(value)


class Folded(Func):
    """The folded text of one expression (a column name or an expression)."""

    arity = 1
    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        translated = Func(
            self.source_expressions[0],
            Value(ACCENTED),
            Value(BARE),
            function="TRANSLATE",
            output_field=CharField(),
        )
        return compiler.compile(Func(translated, function="LOWER", output_field=CharField()))

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_function("cqs_fold", 1, _sqlite_fold, deterministic=True)
        return super().as_sql(compiler, connection, function="cqs_fold", **extra_context)

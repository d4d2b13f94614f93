"""One register row → a record to store, flags for what is doubtful, or a rejection.

Historical registers are accepted as they are: the value as written is kept
verbatim, a normalized value is stored beside it when one can be determined,
and anything doubtful (an impossible or partial date, a missing parent, an
illegible entry, a pre-1975 place name) becomes a flag with a Vietnamese
reason for a registrar to review. Only a row that identifies nobody — no
subject name and no register number — is rejected.

validator.py  RowValidator: a chunk of rows, column by column, then row by row
columns.py    the header row: which column holds which register field
cells.py      what one cell says on its own, read by the reader of its field's kind:
  text.py             names, identifiers (book, number, key), free text, scanned pages;
                      the "illegible" and "none" markers and length limits all text kinds share
  sex.py              Nam / Nữ
  places.py           pre-1975 place names
  years_and_dates.py  the year of registration, dates
cache.py      each column's bounded cache of cells
rows.py       the whole-row rules: year, identity, rejection, missing fields, dates out of order
results.py    what validation gives back: CleanRow, Problem, the flags' labels
processes.py  chunks of rows, and validation in worker processes
"""

from chinhquyenso.civil_records.validation.columns import ERROR_COLUMNS
from chinhquyenso.civil_records.validation.processes import FileEnd, ProcessFailure, chunks, validation_process
from chinhquyenso.civil_records.validation.results import FLAG_LABELS, CleanRow, Problem
from chinhquyenso.civil_records.validation.sex import SEXES
from chinhquyenso.civil_records.validation.validator import RowValidator

__all__ = [
    "ERROR_COLUMNS",
    "FLAG_LABELS",
    "FileEnd",
    "SEXES",
    "CleanRow",
    "Problem",
    "ProcessFailure",
    "RowValidator",
    "chunks",
    "validation_process",
]

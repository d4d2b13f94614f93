"""Reading a file in chunks of rows, and validating the chunks in worker
processes (importer.run_batch with workers)."""

from __future__ import annotations

import datetime as dt
import gc
import traceback
from dataclasses import dataclass

from chinhquyenso.civil_records.validation.validator import RowValidator
from chinhquyenso.core.errors import DomainError


def chunks(source, after_row: int, size: int):
    """(last row number, fraction of the file read, [(row number, cells)]) for each
    `size` rows of `source` after row `after_row`; the last chunk may be empty."""
    chunk, last = [], after_row
    for number, cells in source.rows:
        if number <= after_row:
            continue
        chunk.append((number, cells))
        last = number
        if len(chunk) >= size:
            yield last, source.fraction(), chunk
            chunk = []
    yield last, 1.0, chunk


@dataclass
class ProcessFailure:
    traceback: str
    message: str = ""  # a DomainError's: what the file is refused for, shown as it is


@dataclass
class FileEnd:
    """What a validation process says after its last chunk: lines read as Windows-1258."""

    legacy_lines: int


def validation_process(
    queue, path: str, kind_code: str, today: dt.date, after_row: int, size: int, share: int, shares: int
) -> None:
    """Body of a validation process (importer.run_batch with workers): read the file
    itself — rows never cross between processes, only results do — and validate
    chunks share, share + shares, … onto `queue`, in order; then a FileEnd."""
    from chinhquyenso.civil_records.fields import KINDS
    from chinhquyenso.civil_records.reading import open_source

    gc.disable()  # see importer._without_cycle_collection; this process ends with the file
    try:
        source = open_source(path)
        try:
            validator = RowValidator(KINDS[kind_code], source.headers, today=today)
            for index, (last, fraction, rows) in enumerate(chunks(source, after_row, size)):
                if index % shares == share:
                    queue.put((last, fraction, validator.validate(rows)))
            legacy = source.legacy_lines()
        finally:
            source.close()
        queue.put(FileEnd(legacy))
    except DomainError as error:
        queue.put(ProcessFailure("", error.message))
    except BaseException:
        queue.put(ProcessFailure(traceback.format_exc()))

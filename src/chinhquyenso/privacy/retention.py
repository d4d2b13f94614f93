"""The retention table (data/retention.json): each kind of record about a
citizen, how long it is kept, on what legal basis, and what erasure does to
it (keep, anonymize, delete). Data, not code, so the province's archivist
can correct it; privacy.services.erase reads it for every kind it touches."""

from __future__ import annotations

import functools
import json
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "retention.json"
ACTIONS = ("keep", "anonymize", "delete")


@functools.cache
def table() -> dict[str, dict]:
    """kind → its row, in the file's order."""
    rows = json.loads(TABLE.read_text(encoding="utf-8"))["kinds"]
    for row in rows:
        if row["on_erasure"] not in ACTIONS:
            raise ValueError(f"retention.json: {row['kind']}: on_erasure must be one of {ACTIONS}")
    return {row["kind"]: row for row in rows}


def on_erasure(kind: str) -> str:
    """What erasure does to `kind` (a kind missing from the table is a KeyError: never guess)."""
    return table()[kind]["on_erasure"]

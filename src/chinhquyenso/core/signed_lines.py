"""Append-only JSON Lines files outside the database, one file a month, for signed statements about a
hash chain: the audit trail's checkpoints (core.audit) and the data bus's message-log seals
(exchange.bus.log). The files only grow; a writer holds the directory's lock; each line is flushed to
disk before the writer goes on."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone


def canonical(body: dict) -> str:
    """The one JSON text of `body` that is signed: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder, separators=(",", ":"))


def files(directory: Path, prefix: str) -> list[Path]:
    """The files `<prefix>-YYYY-MM.jsonl`, oldest first (name order is time order)."""
    return sorted(Path(directory).glob(f"{prefix}-*.jsonl"))


def lines(directory: Path, prefix: str) -> Iterator[tuple[bytes, str]]:
    """Every line of every file, in order, with where it is ("dòng 3 của tệp seals-2026-12.jsonl")."""
    for path in files(directory, prefix):
        with path.open("rb") as file:
            for number, raw in enumerate(file, 1):
                yield raw, f"dòng {number} của tệp {path.name}"


def last_line(path: Path) -> bytes:
    """The file's last line, read from its end (the files only grow)."""
    with path.open("rb") as file:
        tail, position = b"", file.seek(0, os.SEEK_END)
        while position > 0:
            step = min(1 << 16, position)
            position -= step
            file.seek(position)
            tail = file.read(step) + tail
            body = tail.rstrip(b"\n")
            if b"\n" in body or position == 0:
                return body.rsplit(b"\n", 1)[-1]
    return b""


def latest_line(directory: Path, prefix: str) -> tuple[bytes, str] | None:
    """The last line written (of the newest file that has one), with where it is."""
    for path in reversed(files(directory, prefix)):
        if line := last_line(path):
            return line, f"dòng cuối của tệp {path.name}"
    return None


@contextmanager
def locked(directory: Path):
    """One writer at a time in `directory` (the worker's job and the command line)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def append(directory: Path, prefix: str, body: dict, at: dt.datetime) -> str:
    """Append `body` as one canonical JSON line to the month's file (local time of `at`); its name."""
    path = Path(directory) / f"{prefix}-{timezone.localtime(at):%Y-%m}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "ab") as file:
        file.write((canonical(body) + "\n").encode())
        file.flush()
        os.fsync(file.fileno())
    return path.name

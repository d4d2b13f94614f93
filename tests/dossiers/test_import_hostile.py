"""Malformed JSON Lines (issue 16, finding 10): every kind of bad line — not JSON, not an object,
wrong types, nested too deep, non-finite or oversized numbers, characters that cannot be stored,
a line over the size limit — is reported with its line number and the import goes on to the next
line, always ending with its summary; a pathological line costs bounded memory."""

import json
import logging
import tracemalloc

import pytest
from django.conf import settings

from chinhquyenso.dossiers import importer
from chinhquyenso.dossiers.models import Dossier
from tests.dossiers.test_import import line, returned, run_command, ts

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(birth_procedure, province):
    return province


def good(code):
    return json.dumps(returned(code, ts(5, 16), ts(6, 8)), ensure_ascii=False)


def with_field(dossier_code, **fields):
    """A good line with some fields replaced, as JSON text (non-standard values written raw)."""
    data = returned(dossier_code, ts(5, 16), ts(6, 8))
    raw = {key: value for key, value in fields.items() if isinstance(value, RawJSON)}
    data.update({key: value for key, value in fields.items() if not isinstance(value, RawJSON)})
    data.update({key: f"@@{key}@@" for key in raw})
    text = json.dumps(data, ensure_ascii=False)
    for key, value in raw.items():
        text = text.replace(f'"@@{key}@@"', value)
    return text


class RawJSON(str):
    pass


def event_with(**changes):
    """The good line's events, the first changed."""
    events = returned("", ts(5, 16), ts(6, 8))["events"]
    return [{**events[0], **changes}, *events[1:]]


BAD_LINES = [
    # (line text, the field reported, words of the reason)
    ('{"code": "X-1", ', "json", "không phải JSON hợp lệ"),
    ("[1, 2, 3]", "dòng", "đối tượng JSON"),
    ('"chỉ một chuỗi"', "dòng", "đối tượng JSON"),
    ("null", "dòng", "đối tượng JSON"),
    (with_field("T-1", events=event_with(action=["accept"])), "events[0].action", "Hành động phải là"),
    (with_field("T-2", events=event_with(action={"x": 1})), "events[0].action", "Hành động phải là"),
    (with_field("T-3", applicant=["Nguyễn"]), "applicant", "đối tượng JSON"),
    (with_field("T-4", code=12345), "code", "chuỗi ký tự"),
    (with_field("T-5", channel=["online"]), "channel", "Hình thức nộp"),
    (with_field("T-6", fee_due=10**30), "fee_due", "quá lớn"),
    (with_field("T-7", fee_due=RawJSON("NaN")), "json", "NaN"),
    (with_field("T-8", fee_paid=RawJSON("-Infinity")), "json", "NaN"),
    (with_field("T-9", fee_due=RawJSON("1e400")), "fee_due", "số nguyên"),
    ('{"code": ' + "[" * 100_000 + "]" * 100_000 + "}", "json", "lồng nhau quá sâu"),
    ('{"code": ' + "[" * 50 + "]" * 50 + "}", "json", "lồng nhau quá sâu"),
    (with_field("T-10", events=event_with(note={"a": [1]})), "events[0].note", "chuỗi"),
    (with_field("T-11", events=event_with(at=20250303)), "events[0].at", "ISO 8601"),
]


def test_every_kind_of_bad_line_is_reported_and_the_import_goes_on(ready, tmp_path):
    lines = [good("G-0")]
    for text, _, _ in BAD_LINES:
        lines += [text, good(f"G-{len(lines)}")]
    path = tmp_path / "old.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_command(path)
    assert code == 1
    reported = [text.split(":", 2) for text in err.splitlines()]
    expected_lines = [2 * n + 2 for n in range(len(BAD_LINES))]
    assert [int(where.removeprefix("Dòng ")) for where, _, _ in reported] == expected_lines, err
    for (where, field, reason), (_, expected_field, words) in zip(reported, BAD_LINES, strict=True):
        assert field.strip() == expected_field and words in reason, (where, field, reason)
    good_codes = {json.loads(text)["code"] for text in lines if text.startswith('{"code": "G-')}
    assert set(Dossier.objects.values_list("code", flat=True)) == good_codes
    assert f"Hoàn tất {len(lines)} dòng" in out
    assert f"Đã nhập: {len(good_codes)} hồ sơ; đã có, bỏ qua: 0; bị từ chối: {len(BAD_LINES)}." in out


def test_a_line_over_the_limit_is_skipped_in_bounded_memory(ready, tmp_path, monkeypatch):
    """A 200 MB line, scaled down: 20 MB against a 64 KB limit, read through in pieces."""
    monkeypatch.setitem(settings.CQS, "DOSSIER_IMPORT_MAX_LINE_BYTES", 64 * 1024)
    path = tmp_path / "old.jsonl"
    with path.open("wb") as out:
        out.write(good("L-1").encode() + b"\n")
        out.write(b'{"code": "' + b"A" * (20 * 1024 * 1024) + b'"}\n')
        out.write(good("L-3").encode() + b"\n")
    tracemalloc.start()
    try:
        stats = importer.import_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, peak
    assert (stats.lines, stats.imported, stats.rejected) == (3, 2, 1)
    [rejection] = stats.rejections
    assert (rejection.line, rejection.field) == (2, "dòng") and "dài quá 64 KB" in rejection.reason
    assert len(rejection.raw) <= 200


def test_an_unexpected_error_on_one_line_is_reported_without_its_content(ready, tmp_path, monkeypatch, caplog):
    clean = importer.clean_line

    def broken(record, lookups, now):
        if record["code"] == "U-2":
            raise KeyError(record["applicant"]["full_name"])  # an error quoting a person
        return clean(record, lookups, now)

    monkeypatch.setattr(importer, "clean_line", broken)
    path = tmp_path / "old.jsonl"
    path.write_text("\n".join(good(f"U-{n}") for n in (1, 2, 3)) + "\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        stats = importer.import_file(path)
    assert (stats.imported, stats.rejected) == (2, 1)
    [rejection] = stats.rejections
    assert rejection.line == 2 and "lỗi hệ thống (KeyError)" in rejection.reason
    assert "KeyError" in caplog.text and line("x", "submitted", [])["applicant"]["full_name"] not in caplog.text

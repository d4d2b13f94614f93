"""What the officers' pages of the master person index accept: the health-records upload, a review
decision, a split, the record search. Plain functions returning the cleaned values and Vietnamese
messages per field (the project's pages do not use Django forms)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings

from chinhquyenso.core.text import nfc
from chinhquyenso.persons.models import Decision

NOTE_MAX = 2000
UPLOAD_SUFFIXES = (".csv", ".xlsx")
ENGINES = (("duckdb", "DuckDB (một máy)"), ("spark", "Spark (nhiều máy)"))


@dataclass
class Form:
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def upload_max_bytes() -> int:
    return settings.CQS["PERSONS_UPLOAD_MAX_BYTES"]


def upload(files) -> Form:
    """The health-records file (field "tep"): CSV or XLSX, not empty, within the size limit."""
    form = Form()
    chosen = files.get("tep")
    if chosen is None:
        form.errors["tep"] = "Hãy chọn tệp danh sách hồ sơ sức khỏe (.csv hoặc .xlsx)."
        return form
    name = PurePath(chosen.name or "").name
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        form.errors["tep"] = "Tệp phải là .csv hoặc .xlsx (theo mẫu nhập hồ sơ sức khỏe)."
    elif not chosen.size:
        form.errors["tep"] = "Tệp đang trống."
    elif chosen.size > upload_max_bytes():
        form.errors["tep"] = f"Tệp vượt quá dung lượng cho phép ({upload_max_bytes() // (1024 * 1024)} MB)."
    form.values = {"file": chosen, "name": name}
    return form


def engine(post) -> str:
    chosen = post.get("may", "") or settings.CQS.get("PERSONS_ENGINE", "duckdb")
    return chosen if chosen in dict(ENGINES) else "duckdb"


def decision(post) -> Form:
    form = Form(values={"decision": post.get("quyet_dinh", ""), "note": nfc(post.get("ghi_chu", ""))[:NOTE_MAX]})
    if form.values["decision"] not in Decision.values:
        form.errors["quyet_dinh"] = "Hãy chọn: cùng một người, không phải cùng người, hoặc chưa chắc."
    return form


def record_ids(post, allowed: set[int]) -> Form:
    """The records ticked for a split (field "ban_ghi"), each one of the person's."""
    form = Form(values={"note": nfc(post.get("ghi_chu", ""))[:NOTE_MAX]})
    chosen = []
    for raw in post.getlist("ban_ghi"):
        if not raw.isascii() or not raw.isdigit() or int(raw) not in allowed:
            form.errors["ban_ghi"] = "Bản ghi đã chọn không thuộc người này; hãy tải lại trang."
            return form
        chosen.append(int(raw))
    if not chosen:
        form.errors["ban_ghi"] = "Hãy chọn ít nhất một bản ghi để tách."
    elif len(set(chosen)) == len(allowed):
        form.errors["ban_ghi"] = "Không thể tách tất cả bản ghi: hãy để lại ít nhất một bản ghi cho người này."
    form.values["records"] = sorted(set(chosen))
    return form


SEARCH_FIELDS = ("so", "ten")


def search(terms) -> Form:
    """A record search: an ID number (9 or 12 digits, spaces and dots allowed) or a name (≥ 2 letters)."""
    number = "".join(ch for ch in terms.get("so", "") if ch not in " .")[:20]
    name = " ".join(nfc(terms.get("ten", "")).split())[:200]
    form = Form(values={"so": number, "ten": name})
    if number and not (number.isascii() and number.isdigit() and len(number) in (9, 12)):
        form.errors["so"] = "Số CMND gồm 9 chữ số, số CCCD (định danh cá nhân) gồm 12 chữ số."
    if name and len(name.replace(" ", "")) < 2:
        form.errors["ten"] = "Họ tên cần ít nhất 2 chữ cái."
    form.values["asked"] = bool(number or name)
    return form

"""Reading the civil-records pages' form input: what was typed comes back as
values to show again, errors per field (Vietnamese) and, when valid, the
arguments of the selector or service it is for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

from chinhquyenso.civil_records import fields as kinds
from chinhquyenso.civil_records.fields import KINDS
from chinhquyenso.civil_records.models import RecordType
from chinhquyenso.civil_records.validation import FLAG_LABELS
from chinhquyenso.core import params
from chinhquyenso.core.text import nfc

MAX_TEXT = 200
UPLOAD_EXTENSIONS = (".csv", ".xlsx")
DEFAULT_UPLOAD_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_SIGNER_TITLE = "Công chức tư pháp - hộ tịch"


def flag_label(code: str) -> str:
    return FLAG_LABELS.get(code, code)


def upload_max_bytes() -> int:
    return int(settings.CQS.get("CIVIL_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))


def _text(data, name: str, limit: int = MAX_TEXT) -> str:
    return nfc(data.get(name, ""))[:limit]


def parse_date(text: str) -> dt.date | None:
    """dd/mm/yyyy (d/m/yyyy too); ValueError when it is no date."""
    text = text.strip()
    if not text:
        return None
    return dt.datetime.strptime(text.replace("-", "/").replace(".", "/"), "%d/%m/%Y").date()


@dataclass
class Search:
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    arguments: dict = field(default_factory=dict)

    @property
    def asked(self) -> bool:
        """Whether any criterion was given (an empty form lists nothing: the registers hold millions of entries)."""
        return any(v not in ("", None) for v in self.arguments.values())


def search(data, communes) -> Search:
    """The search form (GET): q, loai, xa, quyen, so, nam, tu, den."""
    values = {name: _text(data, name) for name in ("q", "loai", "xa", "quyen", "so", "nam", "tu", "den")}
    result = Search(values=values)
    arguments = {"q": values["q"], "book": values["quyen"], "number": values["so"]}
    if values["loai"] and values["loai"] not in RecordType.values:
        result.errors["loai"] = "Loại sổ không hợp lệ."
    arguments["record_type"] = values["loai"] if values["loai"] in RecordType.values else ""
    arguments["commune_id"] = None
    if values["xa"]:
        commune_id = params.integer_or_none(values["xa"], minimum=1)
        commune = communes.filter(pk=commune_id).first() if commune_id else None
        if commune is None:
            result.errors["xa"] = "Hãy chọn một xã, phường trong danh sách."
        else:
            arguments["commune_id"] = commune.pk
    arguments["year"] = None
    if values["nam"]:
        year = params.integer_or_none(values["nam"], minimum=1000, maximum=9999)
        if year is not None:
            arguments["year"] = year
        else:
            result.errors["nam"] = "Năm đăng ký ghi bốn chữ số, ví dụ 1968."
    for name, argument in (("tu", "date_from"), ("den", "date_to")):
        try:
            arguments[argument] = parse_date(values[name])
        except ValueError:
            arguments[argument] = None
            result.errors[name] = "Ngày ghi theo dạng ngày/tháng/năm, ví dụ 05/03/1968."
    if arguments["date_from"] and arguments["date_to"] and arguments["date_from"] > arguments["date_to"]:
        result.errors["den"] = "“Đến ngày” phải sau hoặc bằng “Từ ngày”."
    result.arguments = arguments
    return result


@dataclass
class Upload:
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    commune: object = None
    file: object = None


def upload(post, files, communes) -> Upload:
    """The import form (POST): loai, xa, tep. Checks what can be checked before
    anything is stored; the file's content is checked by services.create_batch."""
    result = Upload(values={"loai": _text(post, "loai", 20), "xa": _text(post, "xa", 20)})
    if result.values["loai"] not in RecordType.values:
        result.errors["loai"] = "Hãy chọn loại sổ: khai sinh, khai tử hoặc kết hôn."
    xa = result.values["xa"]
    commune_id = params.integer_or_none(xa, minimum=1)
    result.commune = communes.filter(pk=commune_id).first() if commune_id else None
    if result.commune is None:
        result.errors["xa"] = "Hãy chọn xã, phường đăng ký (nơi giữ sổ)."
    upload_ = files.get("tep")
    limit = upload_max_bytes()
    if upload_ is None:
        result.errors["tep"] = "Hãy chọn tệp danh sách (.csv hoặc .xlsx)."
    elif not upload_.name.lower().endswith(UPLOAD_EXTENSIONS):
        result.errors["tep"] = (
            "Tệp phải là danh sách .csv hoặc sổ tính .xlsx (Excel 97–2003 .xls: hãy lưu lại thành .xlsx)."
        )
    elif upload_.size == 0:
        result.errors["tep"] = "Tệp rỗng."
    elif upload_.size > limit:
        result.errors["tep"] = (
            f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB): hãy chia thành nhiều tệp."
        )
    result.file = upload_
    return result


def field_hint(record_type: str, key: str) -> str:
    """How to write a corrected value of this field."""
    kind = KINDS[record_type].field(key).kind
    if kind in (kinds.DATE, kinds.YEAR_OR_DATE):
        return "ngày/tháng/năm, tháng/năm hoặc năm, ví dụ 05/03/1968"
    if kind == kinds.YEAR:
        return "bốn chữ số, ví dụ 1968"
    if kind == kinds.SEX:
        return "Nam hoặc Nữ"
    return ""


def display_value(record_type: str, key: str, value) -> str:
    """A normalized value as officers read it: dates dd/mm/yyyy (mm/yyyy, yyyy when partial)."""
    if value in (None, ""):
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    field_ = KINDS[record_type].by_key.get(key)
    if field_ is not None and field_.kind in (kinds.DATE, kinds.YEAR_OR_DATE) and isinstance(value, str):
        return "/".join(reversed(value.split("-")))
    return str(value)

"""Tờ khai điện tử: a procedure's declaration form defined as data.

A form version (`ProcedureForm`) holds a JSON Schema (draft 2020-12) that the
values must satisfy and a layout that says how to ask for them:

    {
      "title": "Tờ khai đăng ký khai sinh",
      "form_ref": "Mẫu ban hành kèm theo Thông tư số 04/2024/TT-BTP",
      "recipient": "Ủy ban nhân dân xã, phường",
      "component": "Tờ khai đăng ký khai sinh",        # the required component the form replaces
      "pledge": "Tôi cam đoan …",
      "sections": [{"title": "…", "help": "…", "fields": [
          {"name": "ho_ten", "label": "Họ, chữ đệm, tên", "help": "…", "width": "half",
           "widget": "textarea|select|radio|checkbox", "autocomplete": "name",
           "prefill": ["applicant.full_name", "edata:giay-chung-nhan-ket-hon.ho_ten_chong"],
           "pattern_message": "…", "not_future": true}]}],
      "subject": ["ho_ten", "ngay_sinh"], "subject_format": "{ho_ten}, sinh ngày {ngay_sinh}",
      "facts": {"ho_ten": "ho_ten", "ngay_sinh": "ngay_sinh"}
    }

The schema's properties are flat scalars (string, integer, number, boolean);
a date is a string with `"format": "date"` (ISO yyyy-mm-dd, typed and shown
as dd/mm/yyyy). Everything here is pure: no database writes (those are in
`procedures.services`), so the portal, the API, the back office and the
e-data store all read a form the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import fold, format_number, nfc, nfc_lines

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCALAR_TYPES = ("string", "integer", "number", "boolean")
WIDTHS = ("full", "half", "third")
WIDGETS = ("text", "textarea", "select", "radio", "checkbox")
# Where a field's first value may come from: "account.<attribute>", "applicant.<key>" (the applicant
# step: account + population database), "edata:<result type>.<fact>" (the e-data store). A source may
# end with "?<applicant key>=<value>": used only when the applicant's key has that value.
ACCOUNT_ATTRIBUTES = ("full_name", "identity_number", "phone", "email")
APPLICANT_KEYS = ("full_name", "identity_number", "phone", "address", "birth_date", "gender")
_PREFILL = re.compile(r"^(account\.[a-z_]+|applicant\.[a-z_]+|edata:[a-z0-9-]+\.[a-z0-9_]+)(\?[a-z_]+=[^=?]+)?$")
_DATE_INPUT = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_FIELDS = 200
FORM_ERROR = "__form__"


# ---------------------------------------------------------------- the form as the pages read it


@dataclass
class FormField:
    name: str
    label: str
    type: str  # string | integer | number | boolean
    widget: str  # text | textarea | select | radio | checkbox | date
    required: bool = False
    help: str = ""
    width: str = "full"
    choices: list[str] = field(default_factory=list)
    autocomplete: str = ""
    inputmode: str = ""
    max_length: int | None = None
    prefill: list[str] = field(default_factory=list)
    pattern_message: str = ""
    not_future: bool = False


@dataclass
class Section:
    title: str
    help: str
    fields: list[FormField]


@dataclass
class FormDefinition:
    title: str
    schema: dict
    layout: dict
    sections: list[Section]

    @property
    def fields(self) -> list[FormField]:
        return [f for s in self.sections for f in s.fields]

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def component(self) -> str:
        return nfc(self.layout.get("component"))


def _widget(prop: dict, spec: dict) -> str:
    if spec.get("widget") in WIDGETS:
        return spec["widget"]
    if prop.get("type") == "boolean":
        return "checkbox"
    if prop.get("enum"):
        return "radio" if len(prop["enum"]) <= 3 else "select"
    if prop.get("format") == "date":
        return "date"
    return "text"


def _inputmode(prop: dict, widget: str, spec: dict) -> str:
    if spec.get("inputmode"):
        return spec["inputmode"]
    if widget == "date" or prop.get("type") == "integer":
        return "numeric"
    if prop.get("type") == "number":
        return "decimal"
    if prop.get("format") == "email":
        return "email"
    if spec.get("autocomplete") == "tel":
        return "tel"
    return ""


def definition(schema: dict, layout: dict, title: str = "") -> FormDefinition:
    """The form's sections and fields, in the layout's order (checked with `check_definition` on save)."""
    properties, required = schema.get("properties", {}), set(schema.get("required", []))
    sections = []
    for section in layout.get("sections", []):
        fields = []
        for spec in section.get("fields", []):
            prop = properties.get(spec["name"], {})
            widget = _widget(prop, spec)
            fields.append(
                FormField(
                    name=spec["name"],
                    label=nfc(spec.get("label")) or nfc(prop.get("title")) or spec["name"],
                    type=prop.get("type", "string"),
                    widget=widget,
                    required=spec["name"] in required,
                    help=nfc(spec.get("help")) or nfc(prop.get("description")),
                    width=spec.get("width", "full"),
                    choices=[str(v) for v in prop.get("enum", [])],
                    autocomplete=spec.get("autocomplete", ""),
                    inputmode=_inputmode(prop, widget, spec),
                    max_length=prop.get("maxLength"),
                    prefill=list(spec.get("prefill", [])),
                    pattern_message=nfc(spec.get("pattern_message")),
                    not_future=bool(spec.get("not_future")),
                )
            )
        sections.append(Section(title=nfc(section.get("title")), help=nfc(section.get("help")), fields=fields))
    return FormDefinition(title=title or nfc(layout.get("title")), schema=schema, layout=layout, sections=sections)


def of(form) -> FormDefinition:
    """The definition of a saved `ProcedureForm`."""
    return definition(form.schema, form.layout, form.title)


# ---------------------------------------------------------------- checking a definition (admin, loader)


def _schema_error(error: SchemaError) -> DomainError:
    where = ".".join(str(p) for p in error.path) or "gốc"
    return DomainError(
        f"JSON Schema không hợp lệ theo chuẩn draft 2020-12 tại “{where}” (từ khóa “{error.validator}”).", "schema"
    )


def check_definition(schema, layout, component_names: list[str] | None = None) -> FormDefinition:
    """Raise DomainError (field "schema" or "layout", Vietnamese) unless the pair makes a usable form:
    a valid draft 2020-12 schema of flat scalar properties, and a layout that places every
    property exactly once with a label. `component_names`: the procedure's components, one of
    which the layout's "component" must name."""
    if not isinstance(schema, dict):
        raise DomainError("Lược đồ dữ liệu phải là một đối tượng JSON.", "schema")
    if not isinstance(layout, dict):
        raise DomainError("Bố cục phải là một đối tượng JSON.", "layout")
    if schema.get("$schema", SCHEMA_DIALECT) != SCHEMA_DIALECT:
        raise DomainError(f"Lược đồ phải theo chuẩn JSON Schema draft 2020-12 ($schema: {SCHEMA_DIALECT}).", "schema")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise _schema_error(error) from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict) or not schema["properties"]:
        raise DomainError("Lược đồ phải có “type”: “object” và ít nhất một trường trong “properties”.", "schema")
    properties = schema["properties"]
    if len(properties) > MAX_FIELDS:
        raise DomainError(f"Tờ khai có quá {MAX_FIELDS} trường.", "schema")
    for name, prop in properties.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", name):
            raise DomainError(
                f"Tên trường “{name}” chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, bắt đầu bằng chữ.",
                "schema",
            )
        if not isinstance(prop, dict) or prop.get("type") not in SCALAR_TYPES:
            raise DomainError(
                f"Trường “{name}” phải có kiểu đơn: string, integer, number hoặc boolean.", f"schema.properties.{name}"
            )
    for name in schema.get("required", []):
        if name not in properties:
            raise DomainError(f"Trường bắt buộc “{name}” không có trong “properties”.", "schema.required")
    sections = layout.get("sections")
    if not isinstance(sections, list) or not sections:
        raise DomainError("Bố cục phải có danh sách “sections” (các mục của tờ khai).", "layout.sections")
    placed: list[str] = []
    for i, section in enumerate(sections, start=1):
        where = f"layout.sections[{i}]"
        if not isinstance(section, dict) or not nfc(section.get("title")):
            raise DomainError(f"Mục thứ {i} của bố cục phải có tiêu đề (“title”).", where)
        if not isinstance(section.get("fields"), list) or not section["fields"]:
            raise DomainError(f"Mục “{section['title']}” phải có danh sách trường (“fields”).", where)
        for j, spec in enumerate(section["fields"], start=1):
            _check_field(spec, properties, f"{where}.fields[{j}]")
            placed.append(spec["name"])
    twice = sorted({n for n in placed if placed.count(n) > 1})
    if twice:
        raise DomainError("Trường có mặt hai lần trong bố cục: " + ", ".join(twice) + ".", "layout.sections")
    missing = [n for n in properties if n not in placed]
    if missing:
        raise DomainError("Trường có trong lược đồ nhưng chưa xếp vào bố cục: " + ", ".join(missing) + ".", "layout")
    subject = layout.get("subject", [])
    if not isinstance(subject, list) or any(n not in properties for n in subject):
        raise DomainError("“subject” phải là danh sách tên trường của tờ khai.", "layout.subject")
    facts = layout.get("facts", {})
    facts = dict(zip(facts, facts, strict=True)) if isinstance(facts, list) else facts
    if not isinstance(facts, dict) or any(n not in properties for n in facts.values()):
        raise DomainError("“facts” phải ánh xạ tên thông tin sang tên trường của tờ khai.", "layout.facts")
    component = nfc(layout.get("component"))
    if component and component_names is not None and component not in component_names:
        raise DomainError(
            f"Thủ tục không có thành phần hồ sơ “{component}” để tờ khai thay thế; hãy ghi đúng tên thành phần.",
            "layout.component",
        )
    return definition(schema, layout)


def _check_field(spec, properties: dict, where: str) -> None:
    if not isinstance(spec, dict) or spec.get("name") not in properties:
        name = spec.get("name") if isinstance(spec, dict) else spec
        raise DomainError(f"Trường “{name}” trong bố cục không có trong lược đồ dữ liệu.", where)
    if not nfc(spec.get("label")) and not nfc(properties[spec["name"]].get("title")):
        raise DomainError(f"Trường “{spec['name']}” thiếu nhãn (“label”).", where)
    if spec.get("width", "full") not in WIDTHS:
        raise DomainError(f"Độ rộng của trường “{spec['name']}” phải là full, half hoặc third.", where)
    if "widget" in spec and spec["widget"] not in WIDGETS:
        raise DomainError(f"Kiểu ô nhập của trường “{spec['name']}” phải là một trong: {', '.join(WIDGETS)}.", where)
    if spec.get("widget") in ("select", "radio") and not properties[spec["name"]].get("enum"):
        raise DomainError(f"Trường “{spec['name']}” hiện dạng lựa chọn nên phải có “enum” trong lược đồ.", where)
    prefill = spec.get("prefill", [])
    if not isinstance(prefill, list) or any(not isinstance(p, str) or not _PREFILL.match(p) for p in prefill):
        raise DomainError(
            f"Nguồn điền sẵn của trường “{spec['name']}” phải có dạng account.…, applicant.… hoặc edata:loại.thông_tin.",
            where,
        )


# ---------------------------------------------------------------- values: typed in, checked, shown


def parse_date(text: str) -> str | None:
    """ISO yyyy-mm-dd for a date typed as dd/mm/yyyy (or d-m-yyyy, d.m.yyyy, or ISO), else None."""
    text = nfc(text)
    if _ISO_DATE.match(text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    match = _DATE_INPUT.match(text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _number(text: str, integer: bool):
    compact = text.replace(" ", "")
    if integer:
        compact = compact.replace(".", "")  # 1.200 is one thousand two hundred
        return int(compact) if re.fullmatch(r"-?\d{1,15}", compact) else None
    if "," in compact:  # 1.200,5 or 120,5: the Vietnamese decimal comma
        compact = compact.replace(".", "").replace(",", ".")
    try:
        value = float(compact)
    except ValueError:
        return None
    return value if value == value and abs(value) < 1e15 else None  # no NaN, no infinity


def values_from_post(form: FormDefinition, data) -> dict:
    """The values typed into the HTML form (a QueryDict or dict of strings), converted to the schema's
    types where they can be; what cannot be converted is kept as typed, so the citizen sees it again
    and the schema check names the field."""
    values = {}
    for f in form.fields:
        raw = data.get(f.name, "")
        raw = raw if isinstance(raw, str) else ""
        if f.type == "boolean":
            values[f.name] = raw in ("1", "on", "true", "co")
            continue
        text = nfc_lines(raw) if f.widget == "textarea" else nfc(raw)
        if not text:
            continue
        text = text[:2000]
        if f.type in ("integer", "number"):
            number = _number(text, f.type == "integer")
            values[f.name] = text if number is None else number
        elif f.widget == "date":
            values[f.name] = parse_date(text) or text
        else:
            values[f.name] = text
    return values


def _label(form: FormDefinition, name: str) -> str:
    f = form.field(name)
    return f.label if f else name


def _required_message(form: FormDefinition, name: str) -> str:
    f = form.field(name)
    if f and f.widget in ("select", "radio"):
        return f"Hãy chọn “{_label(form, name)}”."
    if f and f.widget == "checkbox":
        return f"Hãy đánh dấu “{_label(form, name)}”."
    return f"Hãy nhập “{_label(form, name)}”."


def _message(form: FormDefinition, name: str, error) -> str:
    label, f = _label(form, name), form.field(name)
    kind, value = error.validator, error.validator_value
    if kind == "type":
        return {
            "integer": f"“{label}” phải là số nguyên, ví dụ 3.",
            "number": f"“{label}” phải là số, ví dụ 120,5.",
        }.get(value if isinstance(value, str) else "", f"“{label}” không hợp lệ.")
    if kind == "format":
        if value == "date":
            return f"“{label}”: hãy nhập ngày có thật theo dạng ngày/tháng/năm, ví dụ 01/02/2026."
        if value == "email":
            return f"“{label}” không phải địa chỉ thư điện tử hợp lệ."
        return f"“{label}” không đúng định dạng."
    if kind == "maxLength":
        return f"“{label}” dài quá {value} ký tự."
    if kind == "minLength":
        return f"Hãy nhập “{label}”." if value <= 1 else f"“{label}” phải có ít nhất {value} ký tự."
    if kind == "pattern":
        return (f and f.pattern_message) or f"“{label}” không đúng định dạng."
    if kind == "enum":
        return f"“{label}”: hãy chọn một trong các giá trị: {', '.join(str(v) for v in value)}."
    if kind == "const":
        return f"Hãy đánh dấu “{label}”." if value is True else f"“{label}” không hợp lệ."
    if kind in ("minimum", "exclusiveMinimum"):
        return f"“{label}” phải {'từ' if kind == 'minimum' else 'lớn hơn'} {format_number(value)} trở lên."
    if kind in ("maximum", "exclusiveMaximum"):
        return f"“{label}” phải {'không quá' if kind == 'maximum' else 'nhỏ hơn'} {format_number(value)}."
    return f"“{label}” không hợp lệ."


def errors_of(form: FormDefinition, values: dict, today: dt.date | None = None) -> dict[str, str]:
    """Field name → one Vietnamese message naming the field; `FORM_ERROR` for a rule on several
    fields at once. Empty when the values satisfy the schema."""
    validator = Draft202012Validator(form.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if path:
            errors.setdefault(str(path[0]), _message(form, str(path[0]), error))
        elif error.validator == "required":
            for name in error.validator_value:
                if name not in error.instance:
                    errors.setdefault(name, _required_message(form, name))
        elif error.validator == "dependentRequired":
            for trigger, needed in error.validator_value.items():
                if trigger in error.instance:
                    for name in needed:
                        if name not in error.instance:
                            errors.setdefault(name, _required_message(form, name))
        else:
            errors.setdefault(FORM_ERROR, "Tờ khai chưa hợp lệ: hãy kiểm tra lại các mục đã khai.")
    today = today or dt.date.today()
    for f in form.fields:
        value = values.get(f.name)
        if f.not_future and f.name not in errors and isinstance(value, str) and _ISO_DATE.match(value):
            if value > today.isoformat():
                errors[f.name] = f"“{f.label}” không được sau ngày hôm nay."
    order = [f.name for f in form.fields]
    return dict(sorted(errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else -1))


def shown(f: FormField, value) -> str:
    """A value as a person reads it: dates dd/mm/yyyy, numbers 1.234,5, yes/no."""
    if value is None or value == "":
        return ""
    if f.type == "boolean":
        return "Có" if value is True else "Không"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            return format_number(value, 2).rstrip("0").rstrip(",")
        return format_number(int(value)) if f.type == "number" or abs(value) >= 10000 else str(int(value))
    if f.widget == "date" and isinstance(value, str) and _ISO_DATE.match(value):
        return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
    return str(value)


def input_value(f: FormField, value) -> str:
    """A value as it goes back into its input box."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return shown(f, value).replace(".", "") if f.type == "integer" else shown(f, value)
    return shown(f, value)


def rows(form: FormDefinition, values: dict) -> list[dict]:
    """The sections with each field's label and shown value: the officer's page, the review step, the PDF."""
    return [
        {
            "title": s.title,
            "fields": [{"name": f.name, "label": f.label, "value": shown(f, values.get(f.name))} for f in s.fields],
        }
        for s in form.sections
    ]


# ---------------------------------------------------------------- prefill


def prefill(form: FormDefinition, *, account=None, applicant: dict | None = None, edata: dict | None = None) -> dict:
    """First values from the layout's sources, in order: the account, the applicant step (account and
    population database) and the e-data store (`edata`: result type → facts of the newest document)."""
    applicant, edata = applicant or {}, edata or {}
    values = {}
    for f in form.fields:
        for source in f.prefill:
            value = _source_value(source, account, applicant, edata)
            if value in (None, ""):
                continue
            if f.widget == "date":
                value = parse_date(str(value))
            elif f.choices and str(value) not in f.choices:
                value = None
            elif f.type == "integer" and not isinstance(value, int):
                value = _number(str(value), True)
            if value not in (None, ""):
                values[f.name] = value
                break
    return values


def _source_value(source: str, account, applicant: dict, edata: dict):
    source, _, condition = source.partition("?")
    if condition:
        key, _, wanted = condition.partition("=")
        if nfc(str(applicant.get(key, ""))) != nfc(wanted):
            return None
    if source.startswith("account."):
        attribute = source.removeprefix("account.")
        return getattr(account, attribute, None) if attribute in ACCOUNT_ATTRIBUTES and account else None
    if source.startswith("applicant."):
        return applicant.get(source.removeprefix("applicant."))
    result_type, _, fact = source.removeprefix("edata:").partition(".")
    return (edata.get(result_type) or {}).get(fact)


# ---------------------------------------------------------------- what the result is about (e-data store)


def subject_of(form: FormDefinition, values: dict) -> str:
    """ "Nguyễn Văn An, sinh ngày 01/02/2026": the layout's subject fields, shown, in its format."""
    names = form.layout.get("subject") or []
    if not names or not any(values.get(n) not in (None, "") for n in names):
        return ""
    shown_values = {n: shown(form.field(n), values.get(n)) for n in names if form.field(n)}
    template = form.layout.get("subject_format")
    if template:
        try:
            text = template.format(**shown_values)
        except (KeyError, IndexError, ValueError):
            text = ", ".join(v for v in shown_values.values() if v)
    else:
        text = ", ".join(v for v in shown_values.values() if v)
    return nfc(text)[:255]


def facts_of(form: FormDefinition, values: dict) -> dict:
    """The layout's facts (fact name → field), with the values as stored (dates ISO)."""
    mapping = form.layout.get("facts") or {}
    if isinstance(mapping, list):
        mapping = {n: n for n in mapping}
    return {fact: values[name] for fact, name in mapping.items() if values.get(name) not in (None, "")}


# ---------------------------------------------------------------- the declaration as PDF


def declaration_context(form, values: dict | None, *, place_date: str = "", signer: str = "") -> dict:
    """What the declaration template prints. Without values: the blank form, dotted lines to fill by hand."""
    definition_ = of(form)
    return {
        "title": definition_.title,
        "form_ref": nfc(definition_.layout.get("form_ref")),
        "recipient": nfc(definition_.layout.get("recipient")),
        "pledge": nfc(definition_.layout.get("pledge")),
        "sections": rows(definition_, values or {}),
        "blank": values is None,
        "place_date": place_date,
        "signer": signer,
        "version": form.version,
        "code": form.procedure.code,
    }


def file_stem(title: str) -> str:
    """ "to-khai-dang-ky-khai-sinh" for a file name."""
    return re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-")[:80] or "to-khai"


def declaration_pdf(form, values: dict | None, *, place_date: str = "", signer: str = "") -> bytes:
    from chinhquyenso.core.pdf import render_pdf

    context = declaration_context(form, values, place_date=place_date, signer=signer)
    return render_pdf("procedures/print/declaration.html", context)

"""Reading the officers' open-data forms: what was typed comes back as values to show again, errors
per field (Vietnamese) and, when valid, the `fields` dict services.datasets takes. Field names are the
services' names, so a DomainError a service raises (its `field`) lands on the field the officer typed
into.

Here only the shape is checked (lengths bounded, choices against the lists the page offered); the
rules — dates in range, a valid e-mail, a unique name, who may do what — are the services'."""

from __future__ import annotations

from dataclasses import dataclass, field

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import nfc
from chinhquyenso.opendata.models import Dataset, Frequency

# The dataset's text fields and the most characters the form keeps of each (the model's lengths).
TEXT_FIELDS = {
    "title": 300,
    "name": 100,
    "spatial": 200,
    "spatial_code": 10,
    "contact_name": 200,
    "contact_email": 254,
    "version": 40,
    "temporal_start": 10,
    "temporal_end": 10,
}
DESCRIPTION_MAX = 10_000
TAGS_MAX = 30
REASON_MAX = 500


@dataclass
class Form:
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    arguments: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def fail(self, error: DomainError, default_field: str = "form") -> None:
        """A service's refusal shown on the field it names (the whole form when it names none of ours).
        A service may name an item of a list ("tags.3", "themes.0"): the list's field shows it."""
        name = (error.field or "").split(".")[0]
        self.errors[name if name in self.values or name == "file" else default_field] = error.message


def _text(data, name: str, limit: int) -> str:
    return nfc(data.get(name, ""))[:limit].strip()


def dataset_values(dataset: Dataset) -> dict:
    """The form's values for an existing dataset (the edit page)."""
    return {
        "agency": str(dataset.agency_id),
        "title": dataset.title,
        "name": dataset.name,
        "description": dataset.description,
        "themes": [t.code for t in dataset.themes.all()],
        "tags": ", ".join(t.name for t in dataset.tags.all()),
        "licence": dataset.licence.code,
        "frequency": dataset.frequency,
        "temporal_start": dataset.temporal_start.isoformat() if dataset.temporal_start else "",
        "temporal_end": dataset.temporal_end.isoformat() if dataset.temporal_end else "",
        "spatial": dataset.spatial,
        "spatial_code": dataset.spatial_code,
        "contact_name": dataset.contact_name,
        "contact_email": dataset.contact_email,
        "version": dataset.version,
    }


def split_tags(text: str) -> list[str]:
    """ "nông nghiệp, lúa; An Giang" → ["nông nghiệp", "lúa", "An Giang"]: commas or semicolons."""
    tags = [part.strip() for part in text.replace(";", ",").split(",")]
    return list(dict.fromkeys(tag for tag in tags if tag))


def dataset(data, *, agencies, themes, licences, creating: bool) -> Form:
    """The dataset form (POST): agency (creating only), title, name, description, themes (codes),
    tags (comma-separated), licence (code), frequency, temporal_start/end, spatial, spatial_code,
    contact_name, contact_email, version."""
    form = Form()
    for name, limit in TEXT_FIELDS.items():
        form.values[name] = _text(data, name, limit)
    form.values["description"] = nfc(data.get("description", ""))[:DESCRIPTION_MAX].strip()
    if not form.values["title"]:
        form.errors["title"] = "Hãy nhập tên bộ dữ liệu."

    if creating:
        agency_ids = {str(a.pk) for a in agencies}
        form.values["agency"] = _text(data, "agency", 12) or (str(agencies[0].pk) if len(agencies) == 1 else "")
        if form.values["agency"] not in agency_ids:
            form.errors["agency"] = "Hãy chọn cơ quan công bố."

    theme_codes = {t.code for t in themes}
    form.values["themes"] = [code for code in data.getlist("themes")[:50] if isinstance(code, str)]
    if any(code not in theme_codes for code in form.values["themes"]):
        form.errors["themes"] = "Hãy chọn lĩnh vực trong danh sách."

    form.values["tags"] = _text(data, "tags", 2000)
    tags = split_tags(form.values["tags"])
    if len(tags) > TAGS_MAX:
        form.errors["tags"] = f"Nhiều nhất {TAGS_MAX} từ khóa."

    licence_codes = {licence.code for licence in licences}
    default_licence = next((licence.code for licence in licences if licence.is_default), "")
    form.values["licence"] = _text(data, "licence", 40) or default_licence
    if form.values["licence"] not in licence_codes:
        form.errors["licence"] = "Hãy chọn giấy phép trong danh sách."

    form.values["frequency"] = _text(data, "frequency", 12) or Frequency.IRREG
    if form.values["frequency"] not in Frequency.values:
        form.errors["frequency"] = "Hãy chọn tần suất cập nhật trong danh sách."

    if form.valid:
        fields = {name: form.values[name] for name in (*TEXT_FIELDS, "description", "licence", "frequency")}
        if not fields["name"]:
            fields.pop("name")  # the service makes one from the title
        for name in ("temporal_start", "temporal_end"):
            fields[name] = fields[name] or None
        fields["themes"] = form.values["themes"]
        fields["tags"] = tags
        form.arguments = {"fields": fields}
        if creating:
            form.arguments["agency"] = next(a for a in agencies if str(a.pk) == form.values["agency"])
    return form


def resource(data, files) -> Form:
    """One resource (multipart POST): file, name, description."""
    form = Form()
    form.values["name"] = _text(data, "name", 300)
    form.values["description"] = nfc(data.get("description", ""))[:DESCRIPTION_MAX].strip()
    upload = files.get("file")
    if upload is None:
        form.errors["file"] = "Hãy chọn tệp dữ liệu (CSV, XLSX, JSON, GeoJSON hoặc PDF)."
    else:
        form.arguments = {
            "data": upload,
            "filename": nfc(upload.name)[:255],
            "name": form.values["name"],
            "description": form.values["description"],
        }
    return form


def replacement(files) -> Form:
    """A new file for a resource (multipart POST): the file only."""
    form = Form()
    upload = files.get("file")
    if upload is None:
        form.errors["file"] = "Hãy chọn tệp mới (cùng định dạng với tệp đang có)."
    else:
        form.arguments = {"data": upload, "filename": nfc(upload.name)[:255]}
    return form


def reason(data, *, required: bool) -> str:
    """The reason of a return or a withdrawal, bounded; DomainError naming "reason" when one is needed."""
    text = _text(data, "reason", REASON_MAX)
    if required and not text:
        raise DomainError("Hãy ghi lý do.", "reason")
    return text

"""Reading the feedback pages' forms into the services' arguments (a report: services.Submission).

Only what HTTP needs is done here: text typed as numbers, uploaded files,
which attribute fields belong to the chosen category. Every rule about the
content (required fields, ranges, photo types, phone format) is the
services' alone, so the pages, the Open311 API and the services agree."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings

from chinhquyenso.core.errors import DomainError
from chinhquyenso.feedback.services import Submission

# The submission form's text fields, as posted (the template writes them back after an error).
TEXT_FIELDS = (
    "category_code",
    "description",
    "latitude",
    "longitude",
    "address",
    "area_code",
    "name",
    "phone",
    "email",
    "dossier_code",
    "verification_code",
    "idempotency_key",
)


def errors_of(error: DomainError) -> dict[str, str]:
    """Field → message, to show each message next to its field; a rule that
    names several fields at once (`error.errors`) shows all of them."""
    many = getattr(error, "errors", None)
    pairs = many.items() if isinstance(many, dict) and many else [(error.field, error.message)]
    return {_shown_at(key): str(message) for key, message in pairs}


def _shown_at(field: str | None) -> str:
    """The form field a service's error belongs to: "photos[2]" → "photos";
    a rate limit by address is about the whole form."""
    field = field or "form"
    if field.startswith("photos"):
        return "photos"
    return "form" if field in ("client_ip", "channel", "status") else field


def decimal(value: str, field: str, label: str) -> Decimal | None:
    """A coordinate typed by hand or filled by the phone: "10,3861" or "10.3861"."""
    text = (value or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"{label} phải là số, ví dụ 10.386100.", field) from None
    if not number.is_finite():
        raise DomainError(f"{label} phải là số, ví dụ 10.386100.", field)
    return number


def attribute_field(code: str) -> str:
    return f"attr-{code}"


def attribute_values(post, category) -> dict:
    """The chosen category's extra fields (Open311 attributes) from the form;
    empty ones are left out, so the services report the required ones."""
    values = {}
    for attribute in category.attributes if category else []:
        code = attribute.get("code")
        if not code:
            continue
        name = attribute_field(code)
        if attribute.get("datatype") == "multivaluelist":
            chosen = [v for v in post.getlist(name) if v]
            if chosen:
                values[code] = chosen
        elif (post.get(name) or "").strip():
            values[code] = post.get(name).strip()
    return values


def attribute_rows(categories, post=None, errors=None) -> list[dict]:
    """The extra fields of every category that has some, ready for the
    template, with what was typed and its error (after a refused submission)."""
    groups = []
    for category in categories:
        rows = []
        for attribute in sorted(category.attributes or [], key=lambda a: a.get("order", 0)):
            if not attribute.get("code"):
                continue
            name = attribute_field(attribute["code"])
            chosen = post.getlist(name) if post is not None and category.code == post.get("category_code") else []
            rows.append(
                {
                    "name": name,
                    "id": f"{category.code}-{name}",
                    "label": attribute.get("description") or attribute["code"],
                    "datatype": attribute.get("datatype", "string"),
                    "required": bool(attribute.get("required")),
                    # Open311 "variable": false is an explanation shown to the reporter, not a field.
                    "variable": attribute.get("variable", True),
                    "value": chosen[-1] if chosen else "",
                    "error": (errors or {}).get(f"attribute_values.{attribute['code']}", ""),
                    "choices": [
                        (v.get("key"), v.get("name") or v.get("key"), v.get("key") in chosen)
                        for v in attribute.get("values") or []
                    ],
                }
            )
        if rows:
            groups.append({"category": category, "rows": rows})
    return groups


def photos(files) -> list[bytes]:
    """The uploaded photos' bytes. A file larger than the upload limit is
    refused before it is read into memory (its type is checked by the services)."""
    limit = settings.CQS["UPLOAD_MAX_BYTES"]
    out = []
    for upload in files.getlist("photos"):
        if upload.size > limit:
            raise DomainError(
                f"Ảnh “{upload.name}” vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).", "photos"
            )
        out.append(upload.read())
    return out


def submission(post, files, category, *, phone: str) -> Submission:
    """What the citizen reports, from the posted form. `phone`: the number
    to use (an anonymous reporter's is the verified one, not one typed later)."""
    return Submission(
        category_code=post.get("category_code", ""),
        description=post.get("description", ""),
        latitude=decimal(post.get("latitude", ""), "latitude", "Vĩ độ"),
        longitude=decimal(post.get("longitude", ""), "longitude", "Kinh độ"),
        address=post.get("address", ""),
        area_code=post.get("area_code", ""),
        name=post.get("name", ""),
        phone=phone,
        email=post.get("email", ""),
        dossier_code=post.get("dossier_code", ""),
        attribute_values=attribute_values(post, category),
        photos=tuple(photos(files)),
        keep_photo_location=bool(post.get("keep_photo_location")),
    )


def rating(value: str) -> int:
    if value not in {"1", "2", "3", "4", "5"}:
        raise DomainError("Hãy chọn mức hài lòng từ 1 đến 5 sao.", "rating")
    return int(value)

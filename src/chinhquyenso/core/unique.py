"""A code that is already taken: the message says which field, which value and
which record holds it — «Mã biểu mẫu “bc-01” đã được dùng cho biểu mẫu báo cáo
“Chính quyền điện tử”.» — instead of Django's "… với … này đã tồn tại".

One wording for every place a duplicate is refused: the admin pages and any
model form (through `NamedUniqueMessage.unique_error_message`, which Django's
unique validation calls) and the loaders of data files (`duplicate_message`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.text import capfirst

__all__ = ["NamedUniqueMessage", "duplicate_message", "record_name"]


def record_name(record) -> str:
    """How a record is named to a person: its name when it has one."""
    name = getattr(record, "name", "") or getattr(record, "full_name", "")
    return str(name or record)


def duplicate_message(model_class, field_name: str, value, existing=None) -> str:
    """«<Field label> “<value>” đã được dùng cho <kind of record> “<its name>”.»"""
    opts = model_class._meta
    label = capfirst(str(opts.get_field(field_name).verbose_name))
    text = f"{label} “{value}” đã được dùng"
    if existing is not None:
        text += f" cho {opts.verbose_name} “{record_name(existing)}”"
    return text + "."


class NamedUniqueMessage:
    """Model mixin (before models.Model in the bases): a value that must be
    unique and is taken is refused with duplicate_message. Checks on several
    fields together keep Django's message."""

    def unique_error_message(self, model_class, unique_check):
        if len(unique_check) != 1:
            return super().unique_error_message(model_class, unique_check)
        field = model_class._meta.get_field(unique_check[0])
        value = getattr(self, field.attname)
        others = model_class._default_manager.filter(**{field.name: value})
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        # No params: the text is final, and a value with "%" must not be read as a format.
        return ValidationError(duplicate_message(model_class, field.name, value, others.first()), code="unique")

"""`{% eform_of dossier as eform %}`: a dossier's typed declaration, in its form version's layout."""

from django import template

from chinhquyenso.procedures import eforms, selectors

register = template.Library()


def typed_declaration(procedure_id: int, form_data) -> dict | None:
    """{"title", "version", "sections": [{"title", "fields": [{"label", "value"}]}]} for form data stored
    as {"version": N, "values": {...}}; None when the dossier has no e-form values. Values of a version
    that no longer exists (or data sent by another system) are listed under their own names."""
    data = form_data if isinstance(form_data, dict) else {}
    values = data.get("values")
    if not isinstance(values, dict) or not values:
        return None
    form = selectors.form_version(procedure_id, data.get("version"))
    if form is None:
        fields = [{"name": k, "label": k, "value": str(v)} for k, v in values.items()]
        return {
            "title": "Nội dung tờ khai",
            "version": data.get("version"),
            "sections": [{"title": "", "fields": fields}],
        }
    return {"title": form.title, "version": form.version, "sections": eforms.rows(eforms.of(form), values)}


@register.simple_tag
def eform_of(obj):
    """A dossier's declaration (its form data), or a submission draft's (values not yet submitted)."""
    if hasattr(obj, "form_values"):
        return typed_declaration(obj.procedure_id, {"version": obj.form_version, "values": obj.form_values})
    return typed_declaration(obj.procedure_id, obj.form_data)

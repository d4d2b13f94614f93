"""The wizard's "Tờ khai" step (between the applicant and the documents) and the blank form as PDF.

The form is rendered on the server from the procedure's e-form (procedures.eforms) as a plain HTML
form: it works without JavaScript, every field has its label, help and error tied to it, and what
was typed is saved with the draft even when it is wrong."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.http import pdf_response
from chinhquyenso.portal import form_services
from chinhquyenso.portal.views import _draft, citizen_required
from chinhquyenso.procedures import eforms
from chinhquyenso.procedures import selectors as procedures


def _field_context(f: eforms.FormField, values: dict, errors: dict) -> dict:
    ident = f"f-{f.name}"
    error = errors.get(f.name, "")
    described = [f"{ident}-help"] if f.help else []
    if error:
        described.append(f"{ident}-err")
    value = values.get(f.name)
    return {
        "f": f,
        "id": ident,
        "value": eforms.input_value(f, value) if value is not None else "",
        "checked": value is True,
        "error": error,
        "describedby": " ".join(described),
        "options": [{"value": c, "id": f"{ident}-{i}", "selected": value == c} for i, c in enumerate(f.choices)],
    }


@citizen_required
def draft_form(request, draft_id):
    draft = _draft(request, draft_id)
    if draft.dossier_id:
        return redirect("portal:receipt", code=draft.dossier.code)
    form = procedures.current_form(draft.procedure)
    if form is None:  # the step is skipped for procedures without an e-form
        return redirect("portal:draft_components", draft_id=draft.pk)
    definition = eforms.of(form)
    errors, prefilled = {}, False
    if request.method == "POST":
        try:
            errors = form_services.save_form(draft, form, request.POST)
        except DomainError as error:
            errors = {eforms.FORM_ERROR: error.message}
        if not errors:
            if request.POST.get("next"):
                return redirect("portal:draft_components", draft_id=draft.pk)
            messages.success(request, "Đã lưu tờ khai.")
            return redirect("portal:draft_form", draft_id=draft.pk)
        values = draft.form_values
    else:
        values, prefilled = form_services.initial_values(draft, form)
    sections = [
        {"title": s.title, "help": s.help, "fields": [_field_context(f, values, errors) for f in s.fields]}
        for s in definition.sections
    ]
    summary = [
        {"id": f"f-{name}" if name != eforms.FORM_ERROR else "", "message": message} for name, message in errors.items()
    ]
    return render(
        request,
        "portal/draft_form.html",
        {
            "draft": draft,
            "form": form,
            "definition": definition,
            "sections": sections,
            "errors": summary,
            "prefilled": prefilled and bool(values),
            "step": "form",
        },
    )


def blank_form_pdf(request, code):
    """The procedure's current e-form, blank, to print and fill by hand."""
    form = procedures.form_by_code(code[:40])
    if form is None:
        raise Http404("Thủ tục này chưa có tờ khai điện tử.")
    return pdf_response(eforms.declaration_pdf(form, None), f"{eforms.file_stem(form.title)}-mau-trong.pdf")

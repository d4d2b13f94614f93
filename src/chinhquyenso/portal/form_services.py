"""The e-form step of an online submission (tờ khai điện tử): prefill, save with the draft,
and at submission the typed values and the declaration PDF that replaces the uploaded form."""

from __future__ import annotations

from django.utils import timezone

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.pdf import place_date
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers.models import EDataItem
from chinhquyenso.portal.models import SubmissionDraft
from chinhquyenso.procedures import eforms, selectors
from chinhquyenso.procedures.models import ProcedureForm

# How the declaration component reads once the e-form replaces the upload.
EFORM_CHOICE = "Tờ khai điện tử (đã khai trực tuyến)"


def edata_facts(owner) -> dict[str, dict]:
    """Result type → the typed facts of the newest document of that type in the owner's e-data store."""
    facts: dict[str, dict] = {}
    for result_type, item_facts in (
        EDataItem.objects.filter(owner=owner)
        .exclude(facts={})
        .order_by("issued_at")
        .values_list("result_type", "facts")
    ):
        if isinstance(item_facts, dict):
            facts[result_type] = item_facts  # newest wins
    return facts


def initial_values(draft: SubmissionDraft, form: ProcedureForm) -> tuple[dict, bool]:
    """The values to show: those saved with the draft (kept by name when the form has a newer
    version), else the prefill from the account, the population database and the e-data store.
    The flag says whether they are a prefill."""
    definition = eforms.of(form)
    names = {f.name for f in definition.fields}
    if draft.form_version:
        return {k: v for k, v in draft.form_values.items() if k in names}, False
    values = eforms.prefill(definition, account=draft.owner, applicant=draft.applicant, edata=edata_facts(draft.owner))
    return values, True


def declaration_order(draft: SubmissionDraft, definition: eforms.FormDefinition) -> int | None:
    """The order of the required component the e-form replaces (layout "component"), if any."""
    if not definition.component:
        return None
    for component in draft.procedure.components.all():
        if component.name == definition.component:
            return component.order
    return None


def save_form(draft: SubmissionDraft, form: ProcedureForm, data) -> dict[str, str]:
    """Save what was typed (always, even when wrong: nothing typed is lost) and return the errors,
    field → Vietnamese message naming the field. A valid form stands in for the declaration
    component; an invalid one no longer does."""
    if draft.dossier_id:
        raise DomainError("Hồ sơ này đã được nộp; không sửa bản nháp được nữa.", "draft")
    definition = eforms.of(form)
    values = eforms.values_from_post(definition, data)
    errors = eforms.errors_of(definition, values)
    draft.form_values, draft.form_version = values, form.version
    order = declaration_order(draft, definition)
    if order is not None:
        key, current = str(order), draft.components.get(str(order)) or {}
        if not errors:
            draft.components[key] = {"eform": form.version, "name": EFORM_CHOICE}
        elif "eform" in current:
            draft.components.pop(key)
    draft.save(update_fields=["form_values", "form_version", "components", "updated_at"])
    return errors


def for_submission(draft: SubmissionDraft) -> tuple[dict, dict[int, str]]:
    """What a submission takes from the e-form: the dossier's form data {"version", "values"} and,
    for the declaration component, the id of the declaration PDF (stored as the citizen's upload).
    Raises DomainError when the saved values do not satisfy their version (nothing is submitted)."""
    marked = [int(order) for order, choice in draft.components.items() if "eform" in choice]
    form = selectors.form_version(draft.procedure_id, draft.form_version) if draft.form_version else None
    if form is None:
        if marked:
            raise DomainError("Hãy khai lại tờ khai điện tử trước khi nộp.", "components")
        return {}, {}
    definition = eforms.of(form)
    errors = eforms.errors_of(definition, draft.form_values)
    if errors:
        first = next(iter(errors.values()))
        raise DomainError(f"Tờ khai điện tử còn mục chưa hợp lệ: {first}", "form")
    files = {}
    if marked:
        pdf = eforms.declaration_pdf(
            form,
            draft.form_values,
            place_date=place_date(timezone.now()),
            signer=draft.applicant.get("full_name", ""),
        )
        stored = store_upload(pdf, original_name=eforms.file_stem(form.title) + ".pdf", field="form", user=draft.owner)
        files = {order: stored.sha256 for order in marked}
    return {"version": form.version, "values": draft.form_values}, files


def step_after_applicant(draft: SubmissionDraft) -> str:
    """The wizard's next page after the applicant step: the e-form where the procedure has one."""
    return "portal:draft_form" if selectors.current_form(draft.procedure) else "portal:draft_components"

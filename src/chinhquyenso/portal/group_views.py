"""Liên thông in the portal: one application for a group of procedures (e.g. a newborn's birth
registration, permanent residence and health-insurance card) and ONE timeline page for it, showing
every part — handled here or by which other system —, its status, dates, deadline, result and why a
part failed. Thin: reads through dossiers.selectors, writes through dossiers.services."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import interconnect, services
from chinhquyenso.dossiers import selectors as dossiers
from chinhquyenso.portal.views import citizen_required
from chinhquyenso.procedures import selectors as procedures
from chinhquyenso.procedures.models import ProcedureGroup


def _group(code: str) -> ProcedureGroup:
    group = ProcedureGroup.objects.filter(code=code).first()
    if group is None:
        raise Http404("Không tìm thấy nhóm thủ tục liên thông.")
    return group


def _members(group: ProcedureGroup):
    return list(group.proceduregroupmember_set.select_related("procedure").order_by("order"))


def groups(request):
    """The interconnected procedures a citizen can apply for at once."""
    rows = [{"group": g, "members": _members(g)} for g in ProcedureGroup.objects.order_by("name")]
    mine = dossiers.own_applications(request.user, limit=20) if request.user.is_authenticated else []
    return render(request, "portal/group_list.html", {"rows": rows, "mine": mine})


@citizen_required
def apply(request, group_code):
    group = _group(group_code)
    members = _members(group)
    form = interconnect.form_of(group.code)
    local = [m for m in members if not m.connector]
    today = local_date(timezone.now())
    first = local[0].procedure if local else members[0].procedure
    agencies = list(procedures.handling_agencies(first, today).order_by("name"))
    uploads = [
        {"member": m, "component": c, "key": f"tep-{m.procedure.code}-{c.order}"}
        for m in local
        for c in m.procedure.components.all()
        if c.mandatory and not c.reusable_result_type
    ]
    errors, typed = {}, {}
    if request.method == "POST":
        typed = {item["name"]: request.POST.get(item["name"], "")[:400] for item in form["fields"]}
        typed["phone"] = request.POST.get("phone", "")[:20]
        agency_code = request.POST.get("agency_code", "")[:60]
        typed["agency_code"] = agency_code
        try:
            interconnect.clean_values(group.code, typed)  # the first wrong field, named, before any file
        except DomainError as error:
            errors[error.field or "form"] = error.message
        components: dict[str, list] = {}
        for row in uploads:
            upload = request.FILES.get(row["key"])
            if upload is None:
                errors[row["key"]] = f"Hãy đính kèm “{row['component'].name}”."
                continue
            try:
                stored = store_upload(upload, original_name=upload.name, field=row["key"], user=request.user)
            except DomainError as error:
                errors[row["key"]] = error.message
                continue
            components.setdefault(row["member"].procedure.code, []).append(
                {"order": row["component"].order, "file_id": stored.sha256}
            )
        if len(agencies) > 1 and agency_code not in {a.code for a in agencies}:
            errors["agency_code"] = "Hãy chọn cơ quan nhận hồ sơ."
        if not errors:
            codes = {
                m.procedure.code: agency_code
                for m in members
                if procedures.handling_agencies(m.procedure, today).filter(code=agency_code).exists()
            }
            try:
                created = services.submit_group(
                    actor=request.user,
                    group_code=group.code,
                    channel="online",
                    applicant={"phone": typed["phone"].strip()},
                    agency_codes=codes,
                    components=components,
                    form_data=typed,
                    idempotency_key=request.POST.get("key", "")[:80],
                )
            except DomainError as error:
                errors[error.field or "form"] = error.message
            else:
                return redirect("portal:group_timeline", code=created[0].group_code)
    return render(
        request,
        "portal/group_apply.html",
        {
            "group": group,
            "members": [{"member": m, "system": interconnect.system_name(m.connector)} for m in members],
            "form": form,
            "fields": [
                {**item, "value": typed.get(item["name"], item.get("default", "")), "error": errors.get(item["name"])}
                for item in form["fields"]
            ],
            "uploads": [{**row, "error": errors.get(row["key"])} for row in uploads],
            "agencies": agencies if len(agencies) > 1 else [],
            "errors": errors,
            "typed": typed,
            "key": request.POST.get("key") or timezone.now().strftime("%Y%m%d%H%M%S%f"),
        },
    )


@citizen_required
def timeline(request, code):
    application = dossiers.own_application(request.user, code[:40])
    if application is None:
        raise Http404("Không tìm thấy hồ sơ liên thông.")
    views = dossiers.application_parts(application, request.user)
    due, planned = dossiers.application_due(views)
    events = sorted(
        (
            {"at": event.at, "label": event.action_label, "note": event.note, "part": view}
            for view in views
            for event in dossiers.timeline(view.dossier)
        ),
        key=lambda row: row["at"],
    )
    return render(
        request,
        "portal/group_timeline.html",
        {
            "application": application,
            "parts": views,
            "due": due,
            "planned": planned,
            "events": events,
            "shown_notes": ("refuse", "part_refused", "group_close", "part_done", "request_supplement"),
        },
    )

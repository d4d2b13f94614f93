"""Citizen portal pages. Thin: reads through selectors, writes through services."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth import login as start_session
from django.contrib.auth import logout as end_session
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.selectors import agency_ids, is_ioc_operator
from chinhquyenso.assistant import index as retrieval
from chinhquyenso.core import params
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.http import pdf_response, stored_file_response
from chinhquyenso.dossiers import printing
from chinhquyenso.dossiers import selectors as dossiers
from chinhquyenso.dossiers.models import Dossier, EDataItem
from chinhquyenso.portal import agency_choice, form_services, selectors, services
from chinhquyenso.portal.models import SubmissionDraft
from chinhquyenso.procedures import selectors as procedures
from chinhquyenso.procedures.models import ServiceLevel

MAX_QUERY = 200


def citizen_required(view):
    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_citizen:
            raise PermissionDenied("Trang này dành cho tài khoản công dân, tổ chức.")
        return view(request, *args, **kwargs)

    return wrapper


# ---------------------------------------------------------------- catalog


def home(request):
    return render(
        request,
        "portal/home.html",
        {
            "popular": procedures.popular_procedures(),
            "fields": procedures.fields_with_counts(),
            "agencies": procedures.agencies_with_procedures(),
        },
    )


# The search page's filters: query parameter → (index filter, facet).
SEARCH_FILTERS = {"linh_vuc": "field", "cap": "level", "muc_do": "service_level"}
FACET_TITLES = {"field": "Lĩnh vực", "level": "Cấp thực hiện", "service_level": "Mức độ dịch vụ công"}
# Hits a query's facets count over (a query that matches more lists its 50 best).
FACET_DEPTH = 1000


def _facet_links(base: dict[str, str], chosen: dict[str, str], counts: dict[str, list[dict]]) -> list[dict]:
    """Each facet's values as links that keep the query and the other filters (a chosen value's
    link removes it)."""
    base = {k: v for k, v in base.items() if v}
    groups = []
    for param, facet in SEARCH_FILTERS.items():
        values = []
        for item in counts.get(facet, []):
            selected = chosen[param] == item["value"]
            keep = {p: v for p, v in chosen.items() if v and p != param}
            if not selected:
                keep[param] = item["value"]
            values.append({**item, "selected": selected, "url": "?" + urlencode({**base, **keep})})
        if values:
            groups.append({"title": FACET_TITLES[facet], "values": values})
    return groups


def search(request):
    q = request.GET.get("q", "")[:MAX_QUERY]
    chosen = {param: request.GET.get(param, "")[:60] for param in SEARCH_FILTERS}
    field_code, agency_code = chosen["linh_vuc"], request.GET.get("co_quan", "")[:60]
    if chosen["muc_do"] not in ServiceLevel.values:
        chosen["muc_do"] = ""
    if q.strip():
        # Ranked (assistant.index): best first, with the facets of what the query found.
        only = set(procedures.handled_by_agency_code(agency_code).values_list("pk", flat=True)) if agency_code else None
        hits = retrieval.search(
            q,
            field_code=field_code,
            level=chosen["cap"],
            service_level=chosen["muc_do"],
            procedure_ids=only,
            limit=FACET_DEPTH,
        )
        found = retrieval.procedures_of(hits[:51])
        facets = _facet_links({"q": q, "co_quan": agency_code}, chosen, retrieval.facets(hits))
    else:
        found = list(procedures.search_procedures(q, field_code=field_code, agency_code=agency_code, limit=51))
        facets = []
    return render(
        request,
        "portal/search.html",
        {
            "q": q,
            "field_code": field_code,
            "agency_code": agency_code,
            "level": chosen["cap"],
            "service_level": chosen["muc_do"],
            "facets": facets,
            "procedures": found[:50],
            "more": len(found) > 50,
            "fields": procedures.fields_with_counts(),
            "agencies": procedures.agencies_with_procedures(),
        },
    )


def procedure_detail(request, code):
    procedure = procedures.get_procedure(code)
    if procedure is None or not procedure.is_active:
        raise Http404("Không tìm thấy thủ tục.")
    today = local_date(timezone.now())
    return render(
        request,
        "portal/procedure.html",
        {
            "procedure": procedure,
            "agencies": procedures.handling_agencies(procedure, today).order_by("name"),
            "online": procedure.service_level != ServiceLevel.INFO_ONLY,
            "amount": procedure.amount_due(online=False),
            "amount_online": procedure.amount_due(online=True),
        },
    )


# ---------------------------------------------------------------- online submission


def _draft(request, draft_id) -> SubmissionDraft:
    return get_object_or_404(SubmissionDraft.objects.select_related("procedure"), pk=draft_id, owner=request.user)


def _errors(error: DomainError) -> dict:
    """Field → message, for showing the message next to its field."""
    return {(error.field or "").removeprefix("applicant."): error.message}


@citizen_required
def start_submission(request, code):
    procedure = procedures.get_procedure(code)
    if procedure is None:
        raise Http404("Không tìm thấy thủ tục.")
    try:
        draft = services.open_draft(owner=request.user, procedure=procedure)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("portal:procedure", code=code)
    if draft.dossier_id:
        return redirect("portal:receipt", code=draft.dossier.code)
    return redirect("portal:draft_applicant", draft_id=draft.pk)


@citizen_required
def draft_applicant(request, draft_id):
    draft = _draft(request, draft_id)
    if draft.dossier_id:
        return redirect("portal:receipt", code=draft.dossier.code)
    today = local_date(timezone.now())
    errors, typed = {}, None
    query = request.POST.get("agency_query", "") if request.method == "POST" else request.GET.get("tim", "")
    chosen = request.POST.get("agency_code", "") if request.method == "POST" else draft.agency_code
    if request.method == "POST" and request.POST.get("filter"):
        # The list filter without JavaScript: show the list again, keep what was typed, save nothing.
        typed = {k: request.POST.get(k, "") for k in ("phone", "address", "note")}
    elif request.method == "POST":
        try:
            offered = agency_choice.receiving_agencies(draft.procedure, today)
            if len(offered) > 1 and chosen not in {a.code for a in offered}:
                raise DomainError("Hãy chọn cơ quan nhận hồ sơ.", "agency_code")
            services.save_applicant(
                draft,
                phone=request.POST.get("phone", ""),
                address=request.POST.get("address", ""),
                note=request.POST.get("note", ""),
                agency_code=chosen,
            )
            return redirect(form_services.step_after_applicant(draft), draft_id=draft.pk)
        except DomainError as error:
            errors = _errors(error)
            draft.refresh_from_db()
            typed = {k: request.POST.get(k, "") for k in ("phone", "address", "note")}
    address = typed["address"] if typed else draft.applicant.get("address", "")
    choice = agency_choice.build(draft.procedure, today, chosen=chosen, address=address, query=query)
    return render(
        request,
        "portal/draft_applicant.html",
        {
            "draft": draft,
            "typed": typed,
            "choice": choice,
            "errors": errors,
            "step": 1,
            "from_registry": services.SOURCE_POPULATION in draft.applicant_sources,
        },
    )


@citizen_required
def draft_components(request, draft_id):
    draft = _draft(request, draft_id)
    if draft.dossier_id:
        return redirect("portal:receipt", code=draft.dossier.code)
    errors = {}
    if request.method == "POST":
        # Each component is saved on its own: one refused file never loses the others.
        for component in draft.procedure.components.all():
            key = f"component-{component.order}"
            try:
                if request.POST.get(f"{key}-clear"):
                    services.clear_component(draft, order=component.order)
                elif key in request.FILES:
                    upload = request.FILES[key]
                    services.upload_component(draft, order=component.order, data=upload, name=upload.name)
                elif request.POST.get(f"{key}-edata"):
                    edata_id = params.integer(request.POST[f"{key}-edata"], key, minimum=1)
                    services.choose_edata(draft, order=component.order, edata_id=edata_id)
            except DomainError as error:
                errors[key] = error.message
        if not errors and request.POST.get("next"):
            missing = services.missing_components(draft)
            if not missing:
                return redirect("portal:draft_review", draft_id=draft.pk)
            errors["components"] = "Còn thiếu giấy tờ bắt buộc: " + "; ".join(missing) + "."
        elif not errors:
            return redirect("portal:draft_components", draft_id=draft.pk)
    store = list(EDataItem.objects.filter(owner=request.user).order_by("-issued_at"))
    rows = []
    for component in draft.procedure.components.all():
        choice = draft.components.get(str(component.order))
        suggested = [
            i for i in store if component.reusable_result_type and i.result_type == component.reusable_result_type
        ]
        rows.append(
            {
                "component": component,
                "choice": choice,
                "key": f"component-{component.order}",
                "error": errors.get(f"component-{component.order}"),
                "suggested": suggested,
            }
        )
    return render(
        request,
        "portal/draft_components.html",
        {"draft": draft, "rows": rows, "store": store, "errors": errors, "step": 2},
    )


@citizen_required
def draft_review(request, draft_id):
    draft = _draft(request, draft_id)
    if draft.dossier_id:
        return redirect("portal:receipt", code=draft.dossier.code)
    error = None
    if request.method == "POST":
        if not request.POST.get("pledge"):
            error = DomainError("Hãy đánh dấu cam đoan thông tin khai là đúng sự thật.", "pledge")
        else:
            try:
                dossier = services.submit_draft(draft)
                messages.success(request, f"Đã nộp hồ sơ {dossier.code}.")
                return redirect("portal:receipt", code=dossier.code)
            except DomainError as failure:
                error = failure
    components = [(c, draft.components.get(str(c.order))) for c in draft.procedure.components.all()]
    offered = agency_choice.receiving_agencies(draft.procedure, local_date(timezone.now()))
    return render(
        request,
        "portal/draft_review.html",
        {
            "draft": draft,
            "agency": agency_choice.chosen_agency(draft, offered),
            "agency_editable": len(offered) > 1,
            "components": components,
            "step": 3,
            "errors": _errors(error) if error else {},
            "amount": draft.procedure.amount_due(online=True),
            "full_amount": draft.procedure.amount_due(online=False),
        },
    )


def _own_dossier(request, code) -> Dossier:
    dossier = (
        dossiers.visible_dossiers(request.user)
        .filter(code=code, applicant=request.user)
        .select_related("procedure", "receiving_agency")
        .first()
    )
    if dossier is None:
        raise Http404("Không tìm thấy hồ sơ.")
    return dossier


@citizen_required
def receipt(request, code):
    dossier = _own_dossier(request, code)
    due, estimated = dossiers.appointment(dossier)
    return render(request, "portal/receipt.html", {"dossier": dossier, "due": due, "estimated": estimated})


@citizen_required
def receipt_pdf(request, code):
    dossier = _own_dossier(request, code)
    return pdf_response(printing.form_pdf(dossier, "01"), f"bien-nhan-{dossier.code}.pdf")


# ---------------------------------------------------------------- tracking, own dossiers, e-data store


def track(request):
    code = request.GET.get("ma", "").strip()[:40]
    dossier = owner_view = None
    if code:
        dossier = (
            Dossier.objects.filter(code=code).select_related("procedure", "receiving_agency", "current_agency").first()
        )
        owner_view = dossier is not None and request.user.is_authenticated and dossier.applicant_id == request.user.pk
    context = {"code": code, "dossier": dossier, "owner_view": owner_view}
    if dossier:
        context["due"], context["estimated"] = dossiers.appointment(dossier)
    if owner_view:
        context.update(
            {
                "components": dossier.components.select_related("file", "reused_from__file"),
                "events": dossiers.timeline(dossier),
                "supplements": dossier.supplement_requests.order_by("-requested_at"),
                "result": getattr(dossier, "electronic_result", None),
            }
        )
    return render(request, "portal/track.html", context)


@citizen_required
def my_dossiers(request):
    return render(
        request,
        "portal/my_dossiers.html",
        {
            "dossiers": dossiers.own_dossiers(request.user, limit=100),
            "drafts": SubmissionDraft.objects.filter(owner=request.user, dossier__isnull=True).select_related(
                "procedure"
            ),
        },
    )


@citizen_required
def edata(request):
    return render(request, "portal/edata.html", {"items": selectors.edata_store(request.user)})


@login_required
def stored_file(request, sha256):
    """Uploads are served with the type their content was checked as, never
    sniffed or run by the browser, and only to those who may read them."""
    stored = selectors.file_for(request.user, sha256)
    if stored is None:
        raise Http404("Không tìm thấy tệp.")
    return stored_file_response(stored, download=bool(request.GET.get("tai")))


# ---------------------------------------------------------------- sign in / out


def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    errors, username, failure = {}, "", None
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        try:
            user = accounts.login(request, username, request.POST.get("password", ""))
            start_session(request, user)
            if next_url:
                return redirect(next_url)
            if user.is_citizen:
                return redirect("portal:my_dossiers")
            # An IOC operator without an agency has no dossier inbox: their work is the feedback queue.
            return redirect("feedback:queue" if is_ioc_operator(user) and not agency_ids(user) else "backoffice:inbox")
        except DomainError as error:
            errors, failure = {error.field: error.message}, error
    response = render(request, "portal/login.html", {"errors": errors, "username": username, "next": next_url})
    if isinstance(failure, accounts.LoginThrottled):  # the form again, with when to retry
        response.status_code = 429
        response["Retry-After"] = str(failure.retry_after)
    return response


@require_POST
def logout_view(request):
    end_session(request)
    return redirect("portal:home")

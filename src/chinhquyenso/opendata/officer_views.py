"""Officers' open-data pages, under /can-bo/du-lieu-mo/: their agencies' datasets by status (the
leader's approval queue first), drafting and editing a dataset, uploading, replacing and deleting its
resources, and the workflow's steps (submit, approve, return, withdraw) as CSRF-protected POSTs.

Thin: reads through opendata.selectors (another agency's draft is the 404 page), writes through
opendata.services (roles, scope and statuses are checked there). What the page offers follows the same
rules (`offered`) so an officer sees only the buttons that will work; a refusal the service still raises
is a message on the page (a state rule) or the 403 page (a role rule)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.models import Role
from chinhquyenso.accounts.selectors import is_province_admin, is_read_only, own_agencies, sees_whole_province
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.opendata import forms, selectors
from chinhquyenso.opendata.labels import version_label
from chinhquyenso.opendata.models import Dataset, DatasetStatus, Frequency, Licence, Theme
from chinhquyenso.opendata.services import datasets as dataset_services
from chinhquyenso.opendata.services import resources as resource_services

LIST_MAX = 500  # an agency's datasets on one page; the search page finds any other
EDITABLE = (DatasetStatus.DRAFT, DatasetStatus.SUBMITTED, DatasetStatus.PUBLIC)
ACTION_LABELS = {
    "submit": "Trình lãnh đạo duyệt",
    "approve": "Duyệt và công bố",
    "return": "Trả lại để sửa",
    "withdraw": "Rút bộ dữ liệu",
}
DONE = {
    "submit": "Đã trình lãnh đạo duyệt bộ dữ liệu.",
    "approve": "Đã duyệt: bộ dữ liệu được công bố trên cổng dữ liệu mở.",
    "return": "Đã trả lại bộ dữ liệu để người soạn sửa.",
    "withdraw": "Đã rút bộ dữ liệu; trang công khai của nó ghi rõ đã rút và lý do.",
}


def _get(user, pk: int) -> Dataset:
    found = selectors.visible_datasets(user).filter(pk=pk).select_related("agency", "licence").first()
    if found is None:
        raise NotFound("Không tìm thấy bộ dữ liệu này.")
    return found


def offered(dataset: Dataset, user) -> dict[str, bool]:
    """What the page offers the user on this dataset: the services' rules, so no button leads to a refusal."""
    if is_read_only(user):
        return dict.fromkeys(("edit", "upload", "resources", "submit", "approve", "return", "withdraw"), False)
    in_scope = dataset.agency_id in scope_agency_ids(user)
    leads = dataset.agency_id in scope_agency_ids(user, [Role.LEADER])
    status = dataset.status
    return {
        "edit": in_scope and status in EDITABLE,
        "upload": in_scope and status in EDITABLE,
        "resources": in_scope and status in EDITABLE,  # replace a resource's file, delete a resource
        "submit": in_scope and status == DatasetStatus.DRAFT,
        "approve": leads and status == DatasetStatus.SUBMITTED,
        "return": leads and status == DatasetStatus.SUBMITTED,
        "withdraw": (leads or is_province_admin(user)) and status != DatasetStatus.WITHDRAWN,
    }


def _choices() -> dict:
    return {
        "themes": list(Theme.objects.all()),
        "licences": list(Licence.objects.all()),
        "frequencies": Frequency.choices,
    }


# ---------------------------------------------------------------- list


@officer_required
def dataset_list(request):
    """My agencies' datasets by status; for a leader, those waiting for approval first."""
    user = request.user
    found = selectors.visible_datasets(user).select_related("agency")
    if not sees_whole_province(user):
        found = found.filter(agency_id__in=scope_agency_ids(user))
    rows = list(found.order_by("-modified_at")[: LIST_MAX + 1])
    led = scope_agency_ids(user, [Role.LEADER])
    queue = [d for d in rows[:LIST_MAX] if d.status == DatasetStatus.SUBMITTED and d.agency_id in led]
    groups = [
        (label, [d for d in rows[:LIST_MAX] if d.status == status and d not in queue])
        for status, label in DatasetStatus.choices
    ]
    return render(
        request,
        "opendata/officer_list.html",
        {
            "current": "list",
            "queue": queue,
            "groups": [(label, items) for label, items in groups if items],
            "more": len(rows) > LIST_MAX,
            "may_create": bool(own_agencies(user).exists()) and not is_read_only(user),
        },
    )


# ---------------------------------------------------------------- create and edit


def _creating_agencies(user) -> list:
    agencies = list(own_agencies(user))
    if not agencies or is_read_only(user):
        raise PermissionDenied("Chỉ cán bộ của cơ quan mới tạo bộ dữ liệu mở.")
    return agencies


@officer_required
def create(request):
    user = request.user
    agencies = _creating_agencies(user)
    choices = _choices()
    status = 200
    if request.method == "POST":
        form = forms.dataset(request.POST, agencies=agencies, creating=True, **_form_lists(choices))
        if form.valid:
            try:
                dataset = dataset_services.create_dataset(
                    actor=user,
                    agency=form.arguments["agency"],
                    fields=form.arguments["fields"],
                    key=request.POST.get("idempotency_key", "")[:64] or None,
                )
            except (PermissionDenied, NotFound):
                raise
            except DomainError as error:
                form.fail(error)
            else:
                messages.success(
                    request, f"Đã lưu bản nháp “{dataset.title}”. Hãy tải lên tệp dữ liệu rồi trình lãnh đạo duyệt."
                )
                return redirect("opendata_officer:detail", pk=dataset.pk)
        status = 400
    else:
        default = next((licence.code for licence in choices["licences"] if licence.is_default), "")
        form = forms.Form(values={"licence": default, "frequency": Frequency.IRREG, "themes": []})
    return render(
        request,
        "opendata/officer_form.html",
        {
            "current": "create",
            "form": form,
            "agencies": agencies,
            "creating": True,
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
            **choices,
        },
        status=status,
    )


def _form_lists(choices: dict) -> dict:
    return {"themes": choices["themes"], "licences": choices["licences"]}


@officer_required
def edit(request, pk):
    user = request.user
    dataset = _get(user, pk)
    if not offered(dataset, user)["edit"]:
        raise PermissionDenied("Bạn không sửa được bộ dữ liệu này.")
    choices = _choices()
    status = 200
    if request.method == "POST":
        form = forms.dataset(request.POST, agencies=[], creating=False, **_form_lists(choices))
        if form.valid:
            try:
                dataset = dataset_services.update_dataset(dataset, actor=user, fields=form.arguments["fields"])
            except (PermissionDenied, NotFound):
                raise
            except DomainError as error:
                form.fail(error)
            else:
                messages.success(request, "Đã lưu thay đổi của bộ dữ liệu.")
                return redirect("opendata_officer:detail", pk=dataset.pk)
        status = 400
    else:
        form = forms.Form(values=forms.dataset_values(dataset))
    return render(
        request,
        "opendata/officer_form.html",
        {"current": "", "form": form, "dataset": dataset, "creating": False, **choices},
        status=status,
    )


# ---------------------------------------------------------------- the dataset and its resources


def _detail(request, dataset: Dataset, *, upload_form=None, replace_errors=None, status: int = 200):
    user = request.user
    resources = list(dataset.resources.select_related("file"))
    for resource in resources:
        resource.replace_error = (replace_errors or {}).get(resource.pk, "")
    return render(
        request,
        "opendata/officer_detail.html",
        {
            "current": "",
            "dataset": dataset,
            "themes": list(dataset.themes.all()),
            "tags": list(dataset.tags.all()),
            "resources": resources,
            "versions": [_labelled(v) for v in dataset.versions.select_related("actor")[:20]],
            "may": offered(dataset, user),
            "labels": ACTION_LABELS,
            "upload_form": upload_form or forms.Form(),
        },
        status=status,
    )


def _labelled(version):
    version.label = version_label(version.action)
    return version


@officer_required
def detail(request, pk):
    return _detail(request, _get(request.user, pk))


@officer_required
def upload(request, pk):
    """One resource (multipart): shown on the dataset's page; a refused file comes back on its field."""
    user = request.user
    dataset = _get(user, pk)
    if request.method != "POST":
        return redirect("opendata_officer:detail", pk=pk)
    if not offered(dataset, user)["upload"]:
        raise PermissionDenied("Bạn không tải tệp lên được cho bộ dữ liệu này.")
    form = forms.resource(request.POST, request.FILES)
    if form.valid:
        try:
            resource = resource_services.add_resource(dataset, actor=user, **form.arguments)
        except (PermissionDenied, NotFound):
            raise
        except DomainError as error:
            form.fail(error, default_field="file")
        else:
            rows = f", {resource.row_count} dòng dữ liệu" if resource.row_count is not None else ""
            messages.success(request, f"Đã tải lên “{resource.name}” ({resource.format}{rows}).")
            return redirect("opendata_officer:detail", pk=pk)
    messages.error(request, "Chưa tải lên được tệp: hãy xem mục được đánh dấu.")
    return _detail(request, _get(user, pk), upload_form=form, status=400)


def _resource_of(dataset: Dataset, resource_id: int):
    resource = dataset.resources.select_related("file").filter(pk=resource_id).first()
    if resource is None:
        raise NotFound("Không tìm thấy tài nguyên này.")
    return resource


@officer_required
def resource_replace(request, pk, resource_id):
    """A new file for one resource (multipart, same format): its address stays, a table is reloaded. A
    state refusal (a withdrawn dataset) is a message; a refused file comes back on that resource's field."""
    user = request.user
    dataset = _get(user, pk)
    resource = _resource_of(dataset, resource_id)
    if request.method != "POST":
        return redirect("opendata_officer:detail", pk=pk)
    form = forms.replacement(request.FILES)
    if form.valid:
        before = resource.file_id
        try:
            resource = resource_services.update_resource(resource, actor=user, **form.arguments)
        except (PermissionDenied, NotFound):
            raise
        except DomainError as error:
            if error.field == "status":
                messages.error(request, f"Thay tệp: {error.message}")
                return redirect("opendata_officer:detail", pk=pk)
            form.fail(error, default_field="file")
        else:
            if resource.file_id == before:
                messages.info(request, f"Tệp mới giống hệt tệp đang có của “{resource.name}”: không có gì thay đổi.")
            else:
                rows = f", {resource.row_count} dòng dữ liệu" if resource.row_count is not None else ""
                messages.success(request, f"Đã thay tệp của “{resource.name}” ({resource.format}{rows}).")
            return redirect("opendata_officer:detail", pk=pk)
    messages.error(request, f"Chưa thay được tệp của “{resource.name}”: hãy xem mục được đánh dấu.")
    errors = {resource.pk: next(iter(form.errors.values()))}
    return _detail(request, _get(user, pk), replace_errors=errors, status=400)


@officer_required
@require_POST
def resource_delete(request, pk, resource_id):
    """Remove one resource (its table too); earlier versions still list its file."""
    user = request.user
    dataset = _get(user, pk)
    resource = _resource_of(dataset, resource_id)
    try:
        resource_services.delete_resource(resource, actor=user)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        messages.error(request, f"Xóa tài nguyên: {error.message}")
    else:
        messages.success(request, f"Đã xóa tài nguyên “{resource.name}” khỏi bộ dữ liệu.")
    return redirect("opendata_officer:detail", pk=pk)


@officer_required
@require_POST
def act(request, pk, action):
    """submit, approve, return (with a reason), withdraw (with a reason)."""
    user = request.user
    dataset = _get(user, pk)
    try:
        if action == "submit":
            dataset_services.submit(dataset, actor=user)
        elif action == "approve":
            dataset_services.approve(dataset, actor=user)
        elif action == "return":
            dataset_services.return_to_draft(dataset, actor=user, reason=forms.reason(request.POST, required=True))
        elif action == "withdraw":
            dataset_services.withdraw(dataset, actor=user, reason=forms.reason(request.POST, required=True))
        else:
            raise NotFound()
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        messages.error(request, f"{ACTION_LABELS[action]}: {error.message}")
    else:
        messages.success(request, DONE[action])
    return redirect("opendata_officer:detail", pk=pk)

"""Officers' pages for the digitized civil-status registers (sổ hộ tịch):
search, import with progress and the error workbook, the review queue and
the record page (review, scanned pages, extract copy). Thin: reads through
civil_records.selectors (scoped to the officer there), writes through
civil_records.services."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.civil_records import forms, selectors, services, workbook
from chinhquyenso.civil_records.fields import KINDS
from chinhquyenso.civil_records.models import FieldReview, ImportBatch, ImportProblem, RecordType
from chinhquyenso.civil_records.validation import FLAG_LABELS
from chinhquyenso.core import params, privacy
from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.http import pdf_response, stored_file_response
from chinhquyenso.core.registry import PERSON_LINKS

PAGE_SIZE = 50
BOOKS_SHOWN = 200
RECENT_BATCHES = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SERVICE_FIELDS = {"type": "loai", "commune": "xa"}  # a service's field name → the import form's


# Another commune's record or batch is a NotFound, shown as the 404 page (its existence is not revealed).
civil_officer_required = officer_required(
    allowed=selectors.keeps_registers,
    reason="Trang này chỉ dành cho cán bộ tư pháp – hộ tịch và cán bộ một cửa của UBND cấp xã, phường.",
)


@dataclass
class Window:
    """One page of a list without counting it all (registers hold millions of rows)."""

    items: list
    number: int
    has_previous: bool
    has_next: bool


def _page_number(request) -> int:
    return params.page(request.GET.get("trang"), "trang", size=PAGE_SIZE)


def _window(queryset, request) -> Window:
    number = _page_number(request)
    offset = (number - 1) * PAGE_SIZE
    rows = list(queryset[offset : offset + PAGE_SIZE + 1])
    return Window(rows[:PAGE_SIZE], number, number > 1, len(rows) > PAGE_SIZE)


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("trang", None)
    return query


def _render(request, template: str, context: dict, status: int = 200):
    """A page with the section's menu, which offers "Nhập sổ" only to those who may import."""
    context.setdefault("can_import", selectors.communes_for(request.user, manage=True).exists())
    return render(request, template, context, status=status)


def person_links(user, record_ids) -> dict[int, list]:
    """{record pk: links}: the "possible same person" links of the master person index
    (core.registry.PERSON_LINKS; none for an officer without its grant) for these records' people: a
    birth or death record's subject ("<pk>"), a marriage's spouses ("<pk>/husband", "<pk>/wife")."""
    ids = [f"{pk}{role}" for pk in record_ids for role in ("", "/husband", "/wife")]
    found: dict[int, list] = {}
    for provider in PERSON_LINKS.values():
        for source_id, links in provider(user, "civil", ids).items():
            found.setdefault(int(source_id.split("/")[0]), []).extend(links)
    return found


def _type_label(code: str) -> str:
    return RecordType(code).label if code in RecordType.values else code


# ---------------------------------------------------------------- search


# The search form's fields: names and birth dates are personal data, so the form posts and the
# results page carries only a token (core.privacy.private_search), never the terms.
SEARCH_FIELDS = ("q", "loai", "xa", "quyen", "so", "nam", "tu", "den")


@civil_officer_required
def index(request):
    user = request.user
    terms, redirect_to = privacy.private_search(request, SEARCH_FIELDS)
    if redirect_to is not None:
        return redirect_to
    communes = selectors.communes_for(user)
    form = forms.search(terms, communes)
    window, rows = None, []
    if form.asked and not form.errors:
        window = _window(selectors.search(user, **form.arguments), request)
        links = person_links(user, [record.pk for record in window.items])
        rows = [
            (record, selectors.verbatim_value(record, KINDS[record.record_type].event_field), links.get(record.pk, []))
            for record in window.items
        ]
    return _render(
        request,
        "civil_records/index.html",
        {
            "form": form,
            "communes": selectors.commune_units(user),
            "chosen": form.arguments.get("commune_id"),
            "types": RecordType.choices,
            "page": window,
            "rows": rows,
            "query": privacy.search_query(request),
        },
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------- import


@civil_officer_required
def import_file(request):
    user = request.user
    communes = selectors.communes_for(user, manage=True)
    if not communes.exists():
        raise PermissionDenied(
            "Bạn không có quyền nhập sổ hộ tịch: việc nhập sổ dành cho công chức tư pháp – hộ tịch, "
            "lãnh đạo và quản trị của UBND cấp xã."
        )
    form = forms.Upload(values={"loai": request.GET.get("loai", "")[:20], "xa": request.GET.get("xa", "")[:20]})
    status = 200
    if request.method == "POST":
        form = forms.upload(request.POST, request.FILES, communes)
        if not form.errors:
            try:
                batch = services.create_batch(
                    record_type=form.values["loai"],
                    commune=form.commune,
                    file_name=PurePath(form.file.name).name,
                    actor=user,
                    upload=form.file,
                )
                services.enqueue_batch(batch)
            except PermissionDenied:
                raise
            except DomainError as error:
                form.errors[SERVICE_FIELDS.get(error.field, "tep")] = error.message
            else:
                messages.success(request, f"Đã nhận tệp {batch.file_name}; sổ đang được nhập, trang này tự cập nhật.")
                return redirect("civil_records:batch", pk=batch.pk)
        status = 400
    if form.errors.get("tep") is None and request.method == "POST" and form.errors:
        form.errors["tep"] = "Hãy chọn lại tệp sau khi sửa các ô trên."
    return _render(
        request,
        "civil_records/import.html",
        {
            "can_import": True,
            "form": form,
            "communes": selectors.commune_units(user, manage=True),
            "chosen": params.integer_or_none(form.values.get("xa", ""), minimum=1),
            "types": RecordType.choices,
            "max_mb": forms.upload_max_bytes() // (1024 * 1024),
            "batches": selectors.visible_batches(user).order_by("-created_at")[:RECENT_BATCHES],
        },
        status=status,
    )


def _progress(batch: ImportBatch) -> dict:
    return {
        "batch": batch.pk,
        "status": batch.status,
        "status_label": batch.get_status_display(),
        "finished": batch.finished,
        "progress_permille": batch.progress_permille,
        "rows_read": batch.rows_read,
        "rows_total": batch.rows_total,
        "imported": batch.imported,
        "flagged": batch.flagged,
        "rejected": batch.rejected,
        "skipped_existing": batch.skipped_existing,
        "message": batch.message,
    }


@civil_officer_required
def batch_page(request, pk):
    batch = selectors.get_batch(request.user, pk)
    severity = request.GET.get("muc", "")
    if severity not in ImportProblem.Severity.values:
        severity = ""
    window = _window(selectors.batch_problems(batch, severity=severity).order_by("row", "id"), request)
    return _render(
        request,
        "civil_records/batch.html",
        {
            "batch": batch,
            "severity": severity,
            "severities": ImportProblem.Severity.choices,
            # Reloads while the worker runs, unless the officer turned it off (WCAG 2.2.1).
            "auto_refresh": not batch.finished and request.GET.get("tu_dong") != "0",
            "page": window,
            "query": _query_without_page(request),
            "has_problems": batch.status == ImportBatch.Status.DONE and bool(batch.file) and batch.problems.exists(),
            "can_manage": selectors.can_manage(request.user, batch.commune),
        },
    )


@civil_officer_required
def batch_progress(request, pk):
    response = JsonResponse(_progress(selectors.get_batch(request.user, pk)))
    response["Cache-Control"] = "private, no-store"
    return response


@civil_officer_required
def error_workbook(request, pk):
    """The error workbook (XLSX), written on request from the kept upload and the batch's problems."""
    batch = selectors.get_batch(request.user, pk)
    if batch.status != ImportBatch.Status.DONE or not batch.file:
        raise Http404("Lượt nhập chưa xong hoặc không còn tệp gốc.")
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="cqs-loi-")
    os.close(handle)
    try:
        workbook.write(batch, batch.file, path)
        stream = open(path, "rb")
    except OSError:  # first: a kept upload missing from the storage is both (core.storage.MissingFile)
        messages.error(request, "Không tạo được sổ tính lỗi: tệp gốc của lượt nhập không còn đọc được trên máy chủ.")
        return redirect("civil_records:batch", pk=batch.pk)
    except DomainError as error:
        messages.error(request, f"Không tạo được sổ tính lỗi: {error.message}")
        return redirect("civil_records:batch", pk=batch.pk)
    finally:
        os.unlink(path)  # the open handle keeps the content until the response is sent
    stem = PurePath(batch.file_name).stem or f"lo-{batch.pk}"
    response = FileResponse(stream, as_attachment=True, filename=f"loi-{stem}.xlsx", content_type=XLSX)
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- review queue


def _book_key(commune_id, record_type, book, year) -> tuple:
    return (int(commune_id), record_type, book, int(year) if year else None)


def _flag_items(record) -> list[tuple[str, str, str]]:
    """(field label, flag label, reason) of each open flag."""
    kind = KINDS[record.record_type]
    return [
        (kind.by_key[key].label if key in kind.by_key else key, forms.flag_label(code), reason)
        for key, code, reason in record.flags
    ]


def _queue_page(request, *, book_errors=None, status=200):
    user = request.user
    communes = selectors.communes_for(user)
    units = selectors.commune_units(user)
    get = request.GET
    if "xa" in get:
        commune_text = get["xa"][:20]
    else:  # the first commune the officer manages, else the first one seen
        default = (selectors.commune_units(user, manage=True) or units or [None])[0]
        commune_text = str(default.pk) if default else ""
    commune_id = params.integer(commune_text, "xa", minimum=1)
    commune = communes.filter(pk=commune_id).first() if commune_id else None
    filters = {
        "commune_id": commune.pk if commune else None,
        "record_type": get.get("loai", "") if get.get("loai", "") in RecordType.values else "",
        "book": get.get("quyen", "")[:200].strip(),
        "flag_code": get.get("diem", "") if get.get("diem", "") in FLAG_LABELS else "",
    }
    window = _window(selectors.review_queue(user, **filters), request)
    books = selectors.flagged_books(
        user, commune_id=filters["commune_id"], record_type=filters["record_type"], book=filters["book"]
    )
    manageable = selectors.commune_ids(user, manage=True)
    book_errors = book_errors or {}
    for book in books:
        book["type_label"] = _type_label(book["record_type"])
        book["can_manage"] = manageable is None or book["commune_id"] in manageable
        book["error"] = book_errors.get(_book_key(book["commune_id"], book["record_type"], book["book"], book["year"]))
    return _render(
        request,
        "civil_records/review.html",
        {
            "communes": units,
            "commune": commune,
            "filters": filters,
            "types": RecordType.choices,
            "flag_names": FLAG_LABELS.items(),
            "page": window,
            "items": [(record, _flag_items(record)) for record in window.items],
            "books": books[:BOOKS_SHOWN],
            "books_more": len(books) > BOOKS_SHOWN,
            "query": _query_without_page(request),
            "queue_url": reverse("civil_records:review") + (f"?{get.urlencode()}" if get else ""),
        },
        status=status,
    )


@civil_officer_required
def review_queue(request):
    return _queue_page(request)


@civil_officer_required
@require_POST
def confirm_book(request):
    """Confirm one kind of flag on every record of a register book."""
    post, user = request.POST, request.user
    commune_id = params.integer(post.get("xa"), "xa", minimum=1)
    commune = selectors.communes_for(user).filter(pk=commune_id).first() if commune_id else None
    if commune is None:
        raise Http404("Không tìm thấy xã, phường.")
    year = params.integer(post.get("nam"), "nam", minimum=params.EARLIEST_DATE.year, maximum=params.LATEST_DATE.year)
    record_type, book = post.get("loai", ""), post.get("quyen", "")
    try:
        changed = services.confirm_book(
            actor=user,
            commune=commune,
            record_type=record_type,
            book=book,
            year=year,
            flag_code=post.get("diem", ""),
            note=post.get("ghi_chu", "")[:2000],
        )
    except PermissionDenied:
        raise
    except DomainError as error:
        return _queue_page(
            request,
            book_errors={_book_key(commune.pk, record_type, book, year): error.message},
            status=error.status_code,
        )
    book_label = f"quyển {book}" if book else "sổ không ghi quyển"
    messages.success(
        request,
        f"Đã xác nhận “{forms.flag_label(post.get('diem', ''))}” cho {changed} bản ghi của "
        f"{book_label}{f' năm {year}' if year else ''}.",
    )
    back = post.get("tiep", "")
    # Back to the queue as it was filtered; only to the queue (no open redirect).
    return redirect(back if back.split("?")[0] == reverse("civil_records:review") else "civil_records:review")


# ---------------------------------------------------------------- record page


def _record_page(request, record, *, errors=None, values=None, review_error=None, status=200):
    """The record page; `review_error` is (field key, message, what was posted) of a refused review."""
    user = request.user
    kind = KINDS[record.record_type]
    rows = selectors.field_rows(record)
    errors = dict(errors or {})
    for row in rows:
        row["display"] = forms.display_value(record.record_type, row["key"], record.data.get(row["key"]))
        row["hint"] = forms.field_hint(record.record_type, row["key"])
        for flag in row["flags"]:
            flag["label"] = forms.flag_label(flag["code"])
        row["error"], row["posted"] = "", {}
        if review_error and review_error[0] == row["key"] and row["flags"]:
            row["error"], row["posted"] = review_error[1], review_error[2]
            review_error = None
    if review_error:
        errors["review"] = review_error[1]
    labels = {f.key: f.label for f in kind.fields}
    reviews = [
        (
            review,
            labels.get(review.field, review.field),
            forms.display_value(record.record_type, review.field, review.old_value),
            forms.display_value(record.record_type, review.field, review.new_value),
        )
        for review in record.reviews.select_related("actor")
    ]
    return _render(
        request,
        "civil_records/record.html",
        {
            "record": record,
            "kind": kind,
            "rows": rows,
            "flagged_rows": [r for r in rows if r["flags"]],
            "reviews": reviews,
            "scans": record.scans.select_related("file"),
            "person_links": person_links(user, [record.pk]).get(record.pk, []),
            "can_manage": selectors.can_manage(user, record.commune),
            "errors": errors,
            "signer": (values or {}).get("nguoi_ky", user.display_name),
            "signer_title": (values or {}).get("chuc_danh", forms.DEFAULT_SIGNER_TITLE),
        },
        status=status,
    )


@civil_officer_required
def record_page(request, pk):
    return _record_page(request, selectors.get_record(request.user, pk))


@civil_officer_required
@require_POST
def review(request, pk):
    """Confirm a flagged field as the register has it, or correct its normalized value."""
    record = selectors.get_record(request.user, pk)
    post = request.POST
    field, action = post.get("field", "")[:40], post.get("action", "")[:20]
    try:
        services.review_field(
            actor=request.user,
            record=record,
            field=field,
            action=action,
            value=post.get("value", "")[:2000],
            note=post.get("note", "")[:2000],
        )
    except PermissionDenied:
        raise
    except DomainError as error:
        record.refresh_from_db()
        return _record_page(request, record, review_error=(field, error.message, post), status=error.status_code)
    label = KINDS[record.record_type].field(field).label
    done = "đã xác nhận đúng như sổ" if action == FieldReview.Action.CONFIRMED else "đã sửa giá trị chuẩn hóa"
    messages.success(request, f"{label}: {done}.")
    return redirect("civil_records:record", pk=record.pk)


@civil_officer_required
@require_POST
def add_scan(request, pk):
    """A scanned page of the register entry (JPEG, PNG or PDF, checked by content)."""
    record = selectors.get_record(request.user, pk)
    selectors.require_manage(request.user, record.commune)
    upload = request.FILES.get("anh")
    try:
        if upload is None:
            raise DomainError("Hãy chọn ảnh trang sổ (JPEG, PNG hoặc PDF).", "anh")
        limit = settings.CQS["UPLOAD_MAX_BYTES"]
        if upload.size > limit:
            raise DomainError(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).", "anh")
        scan = services.attach_scan(
            actor=request.user, record=record, data=upload.read(), original_name=PurePath(upload.name).name
        )
    except PermissionDenied:
        raise
    except DomainError as error:
        return _record_page(request, record, errors={"anh": error.message}, status=error.status_code)
    messages.success(request, f"Đã thêm ảnh trang sổ (trang {scan.page}).")
    return redirect("civil_records:record", pk=record.pk)


@civil_officer_required
def scan_file(request, pk, scan_id):
    """A scanned page, served only to those who may see the record."""
    record = selectors.get_record(request.user, pk)
    scan = record.scans.select_related("file").filter(pk=scan_id).first()
    if scan is None:
        raise Http404("Không tìm thấy ảnh.")
    return stored_file_response(scan.file, download=bool(request.GET.get("tai")))


@civil_officer_required
def extract(request, pk):
    """The extract copy (trích lục) as a PDF shown in the browser."""
    record = selectors.get_record(request.user, pk)
    data = request.POST if request.method == "POST" else request.GET
    values = {
        "nguoi_ky": data.get("nguoi_ky", request.user.display_name)[:150].strip(),
        "chuc_danh": data.get("chuc_danh", forms.DEFAULT_SIGNER_TITLE)[:150].strip(),
    }
    try:
        pdf = services.issue_extract(
            actor=request.user, record=record, signer=values["nguoi_ky"], signer_title=values["chuc_danh"]
        )
    except DomainError as error:
        key = {"signer": "nguoi_ky", "signer_title": "chuc_danh"}.get(error.field, "in")
        return _record_page(request, record, errors={key: error.message}, values=values, status=error.status_code)
    return pdf_response(pdf, f"trich-luc-{record.record_type}-{record.pk}.pdf")

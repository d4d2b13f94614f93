"""Officers' pages of the master person index, under /can-bo/chi-muc-ca-nhan/: the overview (records
against persons, runs and model versions), the health-records import, the review queue and the pair
page (side by side, differences marked, the waterfall and the match-weight histogram), the person page
(golden record, records, history, split and undo), the record search and the duplicates report.

Every page needs persons.view_health_data (access.can_view); every write needs persons.review_links
too (access.require_review, checked again by the services). Health data is personal data of a special
kind (Decree 13/2023): every page that shows a record, a pair or a person writes an audit record
(persons.view_record / view_pair / view_person) with ids only, and the searches post their terms
(core.privacy.private_search) so that no name or ID number reaches a URL."""

from __future__ import annotations

import csv
import io
import logging

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.selectors import is_read_only
from chinhquyenso.core import audit, params, privacy
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.spreadsheets import neutralize_text, safe_cells
from chinhquyenso.core.text import format_number
from chinhquyenso.persons import access, charts, forms, selectors
from chinhquyenso.persons.models import ClusterChange, ImportBatch, LinkRun, Source, SourceRecord

log = logging.getLogger(__name__)

PAGE_SIZE = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

persons_required = officer_required(allowed=access.can_view, reason=access.VIEW_MESSAGE)

# The fields of a record shown side by side on the pair page and in a person's record table.
COMPARED = (
    ("source", "Nguồn"),
    ("facility", "Cơ sở khám chữa bệnh"),
    ("full_name", "Họ và tên"),
    ("sex", "Giới tính"),
    ("birth", "Ngày sinh"),
    ("id_number", "Số CMND/CCCD"),
    ("insurance_number", "Số thẻ BHYT"),
    ("phone", "Điện thoại"),
    ("address", "Địa chỉ"),
    ("commune", "Xã, phường"),
    ("recorded_on", "Ngày ghi nhận"),
)
GOLDEN_LABELS = {
    "full_name": "Họ và tên",
    "sex": "Giới tính",
    "birth": "Ngày sinh",
    "birth_date": "Ngày sinh",
    "birth_year": "Năm sinh",
    "id_number": "Số CMND/CCCD",
    "insurance_number": "Số thẻ BHYT",
    "phone": "Điện thoại",
    "address": "Địa chỉ",
    "commune": "Xã, phường",
    "commune_id": "Xã, phường",
}
SOURCE_LABELS = dict(Source.choices)


def _audit_view(user, action: str, *, object_type: str, object_id, after: dict) -> None:
    """The audit of a page that showed health data: ids only, never a name or a number."""
    with transaction.atomic():
        audit.record(actor=user, action=action, object_type=object_type, object_id=object_id, after=after)


def _may_review(user) -> bool:
    return access.can_review(user) and not is_read_only(user)


def _render(request, template: str, context: dict, status: int = 200):
    context.setdefault("may_review", _may_review(request.user))
    return render(request, template, context, status=status)


def _birth(record: SourceRecord) -> str:
    if record.birth_year and record.birth_month and record.birth_day:
        return f"{record.birth_day:02d}/{record.birth_month:02d}/{record.birth_year}"
    if record.birth_year and record.birth_month:
        return f"{record.birth_month:02d}/{record.birth_year}"
    if record.birth_year:
        return str(record.birth_year)
    return record.birth_text


def record_values(record: SourceRecord) -> dict[str, str]:
    """The record's fields as the pages show them."""
    return {
        "source": record.get_source_display(),
        "facility": record.facility,
        "full_name": record.full_name,
        "sex": record.get_sex_display() if record.sex else "",
        "birth": _birth(record),
        "id_number": record.id_number,
        "insurance_number": record.insurance_number,
        "phone": record.phone,
        "address": record.address,
        "commune": record.commune.name if record.commune_id and record.commune else "",
        "recorded_on": record.recorded_on.strftime("%d/%m/%Y") if record.recorded_on else "",
    }


# ---------------------------------------------------------------- overview


@persons_required
def overview(request):
    by_source = selectors.counts_by_source()
    total = selectors.counts()
    run = selectors.latest_done_run()
    return _render(
        request,
        "persons/overview.html",
        {
            "current": "overview",
            "total": total,
            "by_source": by_source,
            "runs": selectors.latest_runs(),
            "models": selectors.latest_models(),
            "queue_size": selectors.queue_size(run),
            "running": LinkRun.objects.filter(status=LinkRun.Status.RUNNING).exists(),
            "engines": forms.ENGINES,
            "default_engine": forms.engine({}),
        },
    )


@persons_required
@require_POST
def run_linking(request):
    """Queue a linking run (persons.tasks.link_task) for the worker, after this request's commit."""
    user = request.user
    access.require_review(user)
    engine = forms.engine(request.POST)
    from chinhquyenso.persons.tasks import link_task

    transaction.on_commit(lambda: link_task.enqueue(user.pk, engine))
    messages.success(
        request,
        "Đã gửi yêu cầu chạy so khớp. Khi máy chủ chạy xong, lượt so khớp mới hiện trong bảng “Các lượt so khớp” "
        "và các cặp cần đối soát vào hàng chờ.",
    )
    return redirect("persons:overview")


# ---------------------------------------------------------------- import


@persons_required
def import_file(request):
    user = request.user
    access.require_review(user)
    form = forms.Form()
    status = 200
    if request.method == "POST":
        form = forms.upload(request.FILES)
        if form.valid:
            try:
                from chinhquyenso.persons import importer

                batch = importer.import_health(form.values["file"], actor=user, file_name=form.values["name"])
            except PermissionDenied:
                raise
            except DomainError as error:
                form.errors["tep"] = error.message
            else:
                if batch.status == ImportBatch.Status.FAILED:
                    messages.error(request, f"Không nhập được tệp {batch.file_name}: {batch.message}")
                else:
                    messages.success(
                        request,
                        f"Đã nhập tệp {batch.file_name}: {format_number(batch.imported)} bản ghi, "
                        f"{format_number(batch.rejected)} dòng bị loại.",
                    )
                return redirect("persons:batch", pk=batch.pk)
        status = 400
    from chinhquyenso.persons.importer import HEADERS

    return _render(
        request,
        "persons/import.html",
        {
            "current": "import",
            "form": form,
            "headers": HEADERS,
            "max_mb": forms.upload_max_bytes() // (1024 * 1024),
            "batches": selectors.recent_batches(),
        },
        status=status,
    )


def _window(queryset, request, size: int = PAGE_SIZE) -> dict:
    number = params.page(request.GET.get("trang"), "trang", size=size)
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return {"items": rows[:size], "number": number, "has_previous": number > 1, "has_next": len(rows) > size}


@persons_required
def batch_page(request, pk):
    batch = selectors.get_batch(pk)
    if batch is None:
        raise NotFound("Không tìm thấy lượt nhập này.")
    # Problems quote the file's values (names, numbers): health data on screen, so audited.
    page = _window(batch.problems.order_by("row", "pk"), request)
    if page["items"]:
        _audit_view(
            request.user,
            "persons.view_record",
            object_type="persons.ImportBatch",
            object_id=batch.pk,
            after={"batch": batch.pk, "problems": [p.pk for p in page["items"]]},
        )
    return _render(request, "persons/batch.html", {"current": "import", "batch": batch, "page": page})


# ---------------------------------------------------------------- review queue and pairs


@persons_required
def review_queue(request):
    run = selectors.latest_done_run()
    which = selectors.QUEUE_UNSURE if request.GET.get("loai") == "chua-chac" else selectors.QUEUE_OPEN
    page = _window(selectors.review_queue(run, which).select_related("left", "right"), request)
    if page["items"]:
        _audit_view(
            request.user,
            "persons.view_pair",
            object_type="persons.CandidatePair",
            object_id=page["items"][0].pk,
            after={"pairs": [p.pk for p in page["items"]], "queue": which},
        )
    return _render(
        request,
        "persons/queue.html",
        {
            "current": "queue",
            "run": run,
            "which": which,
            "page": page,
            "query": "loai=chua-chac&" if which == selectors.QUEUE_UNSURE else "",
            "open_count": selectors.queue_size(run),
        },
    )


def _comparison_label(column: str) -> str:
    try:
        from chinhquyenso.persons.linkage.comparisons import COMPARISON_LABELS
    except ImportError:  # pragma: no cover - the features module is part of the app
        return column
    return COMPARISON_LABELS.get(column, column)


def _pair_rows(pair) -> list[dict]:
    left, right = record_values(pair.left), record_values(pair.right)
    rows = []
    for key, label in COMPARED:
        a, b = left[key], right[key]
        differs = key != "source" and bool(a or b) and _plain(a) != _plain(b)
        rows.append({"key": key, "label": label, "left": a, "right": b, "differs": differs})
    return rows


def _plain(value: str) -> str:
    return " ".join(str(value).split()).casefold()


@persons_required
def pair_page(request, pk):
    pair = selectors.get_pair(pk)
    if pair is None:
        raise NotFound("Không tìm thấy cặp bản ghi này.")
    _audit_view(
        request.user,
        "persons.view_pair",
        object_type="persons.CandidatePair",
        object_id=pair.pk,
        after={"pair": pair.pk, "records": [pair.left_id, pair.right_id]},
    )
    for item in pair.comparisons or []:
        item.setdefault("label", _comparison_label(item.get("column", "")))
        if not item.get("label"):
            item["label"] = _comparison_label(item.get("column", ""))
    decisions = selectors.pair_decisions(pair)
    return _render(
        request,
        "persons/pair.html",
        {
            "current": "queue",
            "pair": pair,
            "rows": _pair_rows(pair),
            "waterfall": charts.waterfall(pair),
            "histogram": charts.histogram(pair.run.model),
            "model": pair.run.model,
            "decisions": decisions,
            "in_force": decisions[0] if decisions else None,
            "together": pair.left.person_id is not None and pair.left.person_id == pair.right.person_id,
        },
    )


DECIDED = {
    "match": "Đã ghi nhận: hai bản ghi là cùng một người (đã gộp).",
    "not_match": "Đã ghi nhận: hai bản ghi không phải cùng một người.",
    "unsure": "Đã ghi nhận: chưa chắc chắn; cặp này nằm ở mục “Chưa chắc” của hàng chờ.",
}


@persons_required
@require_POST
def decide(request, pk):
    user = request.user
    access.require_review(user)
    pair = selectors.get_pair(pk)
    if pair is None:
        raise NotFound("Không tìm thấy cặp bản ghi này.")
    form = forms.decision(request.POST)
    if not form.valid:
        messages.error(request, form.errors["quyet_dinh"])
        return redirect("persons:pair", pk=pk)
    from chinhquyenso.persons import services

    try:
        services.decide(
            actor=user,
            left_id=pair.left_id,
            right_id=pair.right_id,
            decision=form.values["decision"],
            note=form.values["note"],
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("persons:pair", pk=pk)
    messages.success(request, DECIDED[form.values["decision"]])
    following = selectors.next_pair(pair.run, after=pair.pk)
    if following is not None:
        return redirect("persons:pair", pk=following.pk)
    messages.info(request, "Đã hết cặp cần đối soát của lượt so khớp này.")
    return redirect("persons:queue")


# ---------------------------------------------------------------- person page


def _golden_rows(person, records: list[SourceRecord]) -> list[dict]:
    by_id = {r.pk: r for r in records}
    rows = []
    for key, entry in (person.golden or {}).items():
        if not isinstance(entry, dict) or entry.get("value") in (None, ""):
            continue
        source = entry.get("source", "")
        record = by_id.get(entry.get("record_id"))
        value = entry["value"]
        if key in ("sex",):
            value = {"nam": "Nam", "nu": "Nữ"}.get(value, value)
        rows.append(
            {
                "label": GOLDEN_LABELS.get(key, key),
                "value": value,
                "source": SOURCE_LABELS.get(source, source),
                "record": record,
            }
        )
    return rows


def _history_rows(history: list[ClusterChange], person, record_ids: set[int]) -> list[dict]:
    rows = []
    for change in history:
        moved = set(change.before or {}) | set(change.after or {})
        mine = sorted(int(k) for k in moved if k.isdigit() and int(k) in record_ids)
        rows.append(
            {
                "change": change,
                "records": len(moved),
                "mine": mine,
                "undoable": change.kind in (ClusterChange.Kind.MERGE, ClusterChange.Kind.SPLIT)
                and change.undone_by_id is None,
            }
        )
    return rows


@persons_required
def person_page(request, code):
    person = selectors.get_person(code[:20])
    if person is None:
        raise NotFound("Không tìm thấy người này trong chỉ mục.")
    records = selectors.person_records(person)
    ids = [r.pk for r in records]
    _audit_view(
        request.user,
        "persons.view_person",
        object_type="persons.Person",
        object_id=person.pk,
        after={"person": person.pk, "records": sorted(ids)},
    )
    return _render(
        request,
        "persons/person.html",
        {
            "current": "",
            "person": person,
            "golden": _golden_rows(person, records),
            "records": [(r, record_values(r)) for r in records],
            "history": _history_rows(selectors.person_history(person, ids), person, set(ids)),
        },
    )


@persons_required
@require_POST
def split(request, code):
    user = request.user
    access.require_review(user)
    person = selectors.get_person(code[:20])
    if person is None:
        raise NotFound("Không tìm thấy người này trong chỉ mục.")
    allowed = set(person.records.values_list("pk", flat=True))
    form = forms.record_ids(request.POST, allowed)
    if not form.valid:
        messages.error(request, form.errors["ban_ghi"])
        return redirect("persons:person", code=person.code)
    from chinhquyenso.persons import services

    try:
        change = services.split(actor=user, record_ids=form.values["records"], note=form.values["note"])
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("persons:person", code=person.code)
    messages.success(request, f"Đã tách {len(form.values['records'])} bản ghi thành một người mới.")
    return redirect("persons:person", code=_moved_to(change, form.values["records"]) or person.code)


def _moved_to(change, record_ids: list[int]) -> str:
    """The code of the person a split moved the records to, if the change names it."""
    target = (change.after or {}).get(str(record_ids[0])) if record_ids else None
    if target is None:
        return ""
    found = selectors.persons_by_ids([target]).get(int(target)) if str(target).isdigit() else None
    return found.code if found else ""


@persons_required
@require_POST
def unmerge(request, change_id):
    user = request.user
    access.require_review(user)
    back = request.POST.get("nguoi", "")[:20]
    from chinhquyenso.persons import services

    try:
        services.unmerge(actor=user, change_id=change_id)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Đã hoàn tác: các bản ghi trở về nhóm như trước thay đổi đó.")
    if back and selectors.get_person(back):
        return redirect("persons:person", code=back)
    return redirect("persons:overview")


# ---------------------------------------------------------------- record search


@persons_required
def search(request):
    terms, redirect_to = privacy.private_search(request, forms.SEARCH_FIELDS)
    if redirect_to is not None:
        return redirect_to
    form = forms.search(terms)
    records = []
    if form.values["asked"] and form.valid:
        records = selectors.search_records(id_number=form.values["so"], name=form.values["ten"])
        if records:
            _audit_view(
                request.user,
                "persons.view_record",
                object_type="persons.SourceRecord",
                object_id=records[0].pk,
                after={"records": [r.pk for r in records], "search": True},
            )
    return _render(
        request,
        "persons/search.html",
        {
            "current": "search",
            "form": form,
            "records": [(r, record_values(r)) for r in records],
            "limit": selectors.SEARCH_LIMIT,
        },
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------- duplicates report


REPORT_HEADERS = ("Cơ sở khám chữa bệnh", "Số hồ sơ", "Số người", "Hồ sơ trùng", "Tỷ lệ trùng (%)")


def _report_rows(rows, total) -> list[list]:
    out = [
        [
            row.facility or "(không ghi cơ sở)",
            row.counts.records,
            row.counts.persons,
            row.counts.duplicates,
            round(row.counts.duplicate_share or 0, 1),
        ]
        for row in rows
    ]
    out.append(
        [
            "Toàn tỉnh (mỗi người tính một lần)",
            total.records,
            total.persons,
            total.duplicates,
            round(total.duplicate_share or 0, 1),
        ]
    )
    return out


@persons_required
def report(request):
    rows, total = selectors.facility_report()
    return _render(request, "persons/report.html", {"current": "report", "rows": rows, "total": total})


@persons_required
def report_export(request, fmt):
    """The duplicates table as CSV or XLSX (counts per facility only, no person's data); audited."""
    if fmt not in ("csv", "xlsx"):
        raise NotFound("Không có định dạng này.")
    rows, total = selectors.facility_report()
    table = _report_rows(rows, total)
    with transaction.atomic():
        audit.record(
            actor=request.user,
            action="persons.export",
            object_type="persons.SourceRecord",
            after={"report": "facility_duplicates", "format": fmt, "rows": len(table)},
        )
    stamp = timezone.localdate().strftime("%Y%m%d")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(REPORT_HEADERS)
        for line in table:
            writer.writerow([neutralize_text(v) for v in line])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        name = f"ho-so-suc-khoe-trung-{stamp}.csv"
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Hồ sơ trùng")
        sheet.append(safe_cells(sheet, REPORT_HEADERS))
        for line in table:
            sheet.append(safe_cells(sheet, line))
        data = io.BytesIO()
        book.save(data)
        response = HttpResponse(data.getvalue(), content_type=XLSX)
        name = f"ho-so-suc-khoe-trung-{stamp}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response

"""Online payments on the officers' side: reconciliation (đối soát) of an agency's orders with the
payment platform's statement, and recording a refund (hoàn trả) after a confirmation step.
Scoped like every back-office page: the officer's agencies and those they succeeded."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.selectors import own_agencies, sees_whole_province
from chinhquyenso.core import params
from chinhquyenso.core.calendar import local_date
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import format_number, nfc_lines
from chinhquyenso.payments import selectors as payments
from chinhquyenso.payments import services

REASON_MAX = 1000


@officer_required
def reconciliation(request):
    today = local_date(timezone.now())
    agencies = own_agencies(request.user)
    errors, report, statement_problem = {}, None, ""
    try:
        start = params.date(request.GET.get("tu"), "tu", default=today.replace(day=1))
        end = params.date(request.GET.get("den"), "den", default=today)
        agency_id = params.integer_or_none(request.GET.get("co_quan"), minimum=1)
        if agency_id is not None and not sees_whole_province(request.user):
            if not agencies.filter(pk=agency_id).exists():
                raise DomainError("Hãy chọn cơ quan của bạn.", "co_quan")
        statement = None
        if request.GET.get("sao_ke"):
            statement, statement_problem = payments.fetch_statement(start, end)
        report = payments.reconciliation(request.user, start=start, end=end, agency_id=agency_id, statement=statement)
    except DomainError as error:
        errors = {error.field or "tu": error.message}
        start, end, agency_id = today.replace(day=1), today, None
    return render(
        request,
        "backoffice/payment_reconciliation.html",
        {
            "agencies": agencies,
            "agency_id": agency_id,
            "start": start,
            "end": end,
            "report": report,
            "errors": errors,
            "statement_asked": bool(request.GET.get("sao_ke")),
            "statement_problem": statement_problem,
        },
    )


@officer_required
def refund(request, order_ref):
    """GET: the form. POST without `xac_nhan`: the confirmation page. POST with it: recorded."""
    order = payments.order_for_officer(request.user, order_ref)
    if order is None:
        raise Http404("Không tìm thấy yêu cầu thanh toán.")
    refunded = sum(r.amount for r in order.refunds.all())
    form = {"amount": str(order.amount - refunded), "reason": "", "completed": False}
    errors, confirming = {}, False
    if request.method == "POST":
        form = {
            "amount": request.POST.get("so_tien", "").strip()[:20],
            "reason": nfc_lines(request.POST.get("ly_do", ""))[:REASON_MAX],
            "completed": bool(request.POST.get("da_chuyen")),
        }
        try:
            amount = params.integer(form["amount"].replace(".", ""), "so_tien", minimum=1)
            if amount is None:
                raise DomainError("Hãy nhập số tiền hoàn trả.", "so_tien")
            if not form["reason"]:
                raise DomainError("Hãy ghi lý do hoàn trả.", "ly_do")
            if amount > order.amount - refunded:
                raise DomainError(
                    f"Số tiền hoàn trả vượt quá số còn lại có thể hoàn ({format_number(order.amount - refunded)} đồng).",
                    "so_tien",
                )
            if request.POST.get("xac_nhan"):
                services.record_refund(
                    order, actor=request.user, amount=amount, reason=form["reason"], completed=form["completed"]
                )
                messages.success(
                    request,
                    f"Đã ghi nhận hoàn trả {format_number(amount)} đồng cho hồ sơ {order.dossier.code} "
                    f"(mã giao dịch {order.transaction_ref}).",
                )
                return redirect("backoffice:payment_reconciliation")
            confirming, form["amount_value"] = True, amount
        except DomainError as error:
            field = {"amount": "so_tien", "reason": "ly_do"}.get(error.field, error.field or "so_tien")
            errors = {field: error.message}
    return render(
        request,
        "backoffice/payment_refund.html",
        {"order": order, "refunded": refunded, "form": form, "errors": errors, "confirming": confirming},
    )

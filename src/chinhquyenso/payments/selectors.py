"""Reads of online payment: a citizen's orders, an agency's reconciliation (đối soát)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import Prefetch, Q, Sum

from chinhquyenso.accounts.access import scope_agency_ids
from chinhquyenso.accounts.selectors import sees_whole_province
from chinhquyenso.core.calendar import LOCAL_TZ
from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange.national import forbid_inside_transaction, payment_gateway
from chinhquyenso.exchange.national.base import NationalSystemError, StatementLine
from chinhquyenso.payments.models import PaymentOrder, Refund

RECONCILIATION_MAX_DAYS = 31


def own_order(user, order_ref: str) -> PaymentOrder | None:
    return (
        PaymentOrder.objects.select_related("dossier__procedure", "dossier__receiving_agency", "payment")
        .filter(order_ref=order_ref, dossier__applicant=user)
        .first()
    )


def orders_of_dossier(dossier) -> list[PaymentOrder]:
    return list(dossier.payment_orders.order_by("-created_at", "-id"))


def paid_order(dossier) -> PaymentOrder | None:
    return dossier.payment_orders.filter(status=PaymentOrder.Status.PAID).order_by("-paid_at").first()


def scoped_orders(user):
    """The orders of dossiers received by the officer's agencies (and those they succeeded)."""
    orders = PaymentOrder.objects.all()
    if not sees_whole_province(user):
        orders = orders.filter(dossier__receiving_agency_id__in=scope_agency_ids(user))
    return orders


def order_for_officer(user, order_ref: str) -> PaymentOrder | None:
    return (
        scoped_orders(user)
        .select_related("dossier__procedure", "dossier__receiving_agency", "payment")
        .prefetch_related("refunds__recorded_by")
        .filter(order_ref=order_ref)
        .first()
    )


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if start > end:
        raise DomainError("Từ ngày phải trước hoặc bằng đến ngày.", "tu")
    if (end - start).days + 1 > RECONCILIATION_MAX_DAYS:
        raise DomainError(f"Mỗi lần đối soát tối đa {RECONCILIATION_MAX_DAYS} ngày.", "den")
    lower = dt.datetime.combine(start, dt.time.min, tzinfo=LOCAL_TZ)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ)
    return lower, upper


def fetch_statement(start: dt.date, end: dt.date) -> tuple[list[StatementLine] | None, str]:
    """The platform's statement lines for the days (outside any transaction); (None, why) when it
    could not give them."""
    _bounds(start, end)
    forbid_inside_transaction()
    gateway = payment_gateway()
    lines: list[StatementLine] = []
    day = start
    try:
        while day <= end:
            lines.extend(gateway.statement(day))
            day += dt.timedelta(days=1)
    except NationalSystemError as error:
        return None, error.message
    return lines, ""


@dataclasses.dataclass
class Mismatch:
    kind: str  # a Vietnamese sentence: what does not agree
    order: PaymentOrder | None
    transaction_ref: str
    ours: int | None
    theirs: int | None


@dataclasses.dataclass
class Reconciliation:
    orders: list[PaymentOrder]
    order_count: int
    paid_count: int
    paid_amount: int
    refunded_amount: int
    refunds: list[Refund]
    mismatches: list[Mismatch]
    statement_checked: bool

    @property
    def net_amount(self) -> int:
        return self.paid_amount - self.refunded_amount


def reconciliation(
    user, *, start: dt.date, end: dt.date, agency_id: int | None = None, statement: list[StatementLine] | None
) -> Reconciliation:
    """Orders opened, paid and refunded in the period for the officer's agencies, and where our
    records and the platform's statement disagree (`statement` None: not compared)."""
    lower, upper = _bounds(start, end)
    scope = scoped_orders(user)
    if agency_id is not None:
        scope = scope.filter(dossier__receiving_agency_id=agency_id)
    in_period = Q(created_at__gte=lower, created_at__lt=upper) | Q(paid_at__gte=lower, paid_at__lt=upper)
    orders = list(
        scope.filter(in_period)
        .select_related("dossier__procedure", "dossier__receiving_agency", "payment")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("recorded_at")))
        .order_by("-created_at", "-id")
    )
    paid = [o for o in orders if o.status == PaymentOrder.Status.PAID and o.paid_at and lower <= o.paid_at < upper]
    refunds = list(
        Refund.objects.filter(order__in=scope, recorded_at__gte=lower, recorded_at__lt=upper)
        .select_related("order__dossier", "recorded_by")
        .order_by("-recorded_at")
    )
    refunded = Refund.objects.filter(pk__in=[r.pk for r in refunds]).aggregate(total=Sum("amount"))["total"] or 0
    mismatches = [
        Mismatch("Đã thu tiền nhưng chưa ghi vào hồ sơ", o, o.transaction_ref, o.amount, None)
        for o in paid
        if o.payment_id is None
    ]
    if statement is not None:
        mismatches += _compare(scope, paid, statement)
    return Reconciliation(
        orders=orders,
        order_count=len(orders),
        paid_count=len(paid),
        paid_amount=sum(o.amount for o in paid),
        refunded_amount=refunded,
        refunds=refunds,
        mismatches=mismatches,
        statement_checked=statement is not None,
    )


def _compare(scope, paid: list[PaymentOrder], statement: list[StatementLine]) -> list[Mismatch]:
    settled = {line.transaction_ref: line for line in statement if line.status == "paid"}
    ours = {o.transaction_ref: o for o in paid}
    result = []
    for ref, order in ours.items():
        line = settled.get(ref)
        if line is None:
            result.append(Mismatch("Hệ thống ghi đã thu, sao kê của nền tảng không có", order, ref, order.amount, None))
        elif line.amount != order.amount:
            result.append(Mismatch("Số tiền khác với sao kê", order, ref, order.amount, line.amount))
    missing = [ref for ref in settled if ref not in ours]
    known = {
        o.transaction_ref: o for o in PaymentOrder.objects.select_related("dossier").filter(transaction_ref__in=missing)
    }
    in_scope = set(scope.filter(transaction_ref__in=missing).values_list("transaction_ref", flat=True))
    for ref in missing:
        line, order = settled[ref], known.get(ref)
        if order is None:
            result.append(
                Mismatch("Sao kê có giao dịch không thuộc yêu cầu thanh toán nào", None, ref, None, line.amount)
            )
        elif ref in in_scope and order.status != PaymentOrder.Status.PAID:
            result.append(
                Mismatch(
                    f"Nền tảng đã thu, hệ thống ghi “{order.get_status_display().lower()}”",
                    order,
                    ref,
                    order.amount,
                    line.amount,
                )
            )
    return result

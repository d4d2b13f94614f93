"""The electronic receipt (biên lai điện tử) of an online payment, as PDF through core.pdf."""

from __future__ import annotations

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.pdf import place_date, render_pdf, time_text
from chinhquyenso.core.text import format_number
from chinhquyenso.payments.models import PaymentOrder

TITLE = "Biên lai thu phí, lệ phí"


def _money(amount: int) -> str:
    return f"{format_number(amount)} đồng"


def receipt_context(order: PaymentOrder) -> dict:
    if order.status != PaymentOrder.Status.PAID or order.payment_id is None:
        raise DomainError("Chỉ có biên lai cho khoản đã thanh toán và đã ghi nhận vào hồ sơ.", "status")
    dossier = order.dossier
    agency = dossier.receiving_agency
    return {
        "title": TITLE,
        "code": dossier.code,
        "number": f"{order.pk:07d}",
        "agency_line": agency.name.upper(),
        "unit_line": "",
        "place_date": place_date(order.paid_at),
        "payer": dossier.applicant_name,
        "identity": dossier.applicant_identity,
        "address": dossier.applicant_address,
        "procedure": dossier.procedure.name,
        "amount_full": _money(order.amount_full),
        "discount": _money(order.discount) if order.discount else "",
        "discount_rule": order.discount_rule,
        "amount": _money(order.amount),
        "method": "Thanh toán trực tuyến qua nền tảng thanh toán",
        "transaction_ref": order.transaction_ref,
        "order_ref": order.order_ref,
        "paid_at": time_text(order.paid_at),
        "collector": agency.name,
    }


def receipt_pdf(order: PaymentOrder) -> bytes:
    return render_pdf("payments/print/receipt.html", receipt_context(order))

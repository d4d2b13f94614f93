"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS):
a payment order's steps are recorded as "payment.<status or action>"."""

from chinhquyenso.core.registry import CodeLabels
from chinhquyenso.payments.models import PaymentOrder

AUDIT_ACTIONS = CodeLabels(
    exact={
        "payment.create": "Tạo yêu cầu thanh toán trực tuyến",
        **{
            f"payment.{status}": f"Yêu cầu thanh toán: {label.lower()}" for status, label in PaymentOrder.Status.choices
        },
        "payment.refund": "Ghi nhận hoàn trả phí, lệ phí",
    }
)

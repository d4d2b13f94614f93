"""Writes of online payment: open an order, settle it from what the platform
says, record a refund.

The platform is called only outside a transaction (exchange.national); every
change of an order runs in one transaction that locks the order row first and
then, through dossiers.services.record_payment, the dossier row. A callback
delivered twice, or twice at once, finds the order already paid under its lock
and records nothing more: one dossiers.Payment per order (and the payment's
transaction reference is unique besides)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from chinhquyenso.accounts.access import refuse_read_only, require_role
from chinhquyenso.accounts.models import Role
from chinhquyenso.core import audit, params, workflow
from chinhquyenso.core.errors import DomainError, NotFound, PermissionDenied
from chinhquyenso.core.text import format_number, nfc, nfc_lines
from chinhquyenso.dossiers import services as dossier_services
from chinhquyenso.dossiers.models import OPEN_STATUSES, Channel, Dossier, Payment
from chinhquyenso.exchange.national import forbid_inside_transaction, payment_gateway
from chinhquyenso.exchange.national.base import PAYMENT_STATUSES, NationalSystemError, payment_signature_valid
from chinhquyenso.payments.models import PaymentOrder, Refund

CALLBACK_LOG_MAX = 50
REFUND_ROLES = (Role.COUNTER_OFFICER, Role.LEADER)
REFUND_ROLE_MESSAGE = "Chỉ cán bộ một cửa hoặc lãnh đạo của cơ quan nhận hồ sơ được ghi nhận hoàn trả."


def _snapshot(order: PaymentOrder) -> dict:
    # Amounts, statuses and references: no personal data in the audit chain.
    return {
        "status": order.status,
        "amount": order.amount,
        "dossier": order.dossier_id,
        "transaction_ref": order.transaction_ref,
    }


ORDER_WORKFLOW = workflow.Workflow(
    PaymentOrder,
    noun="yêu cầu thanh toán",
    audit_prefix="payment",
    snapshot=_snapshot,
    agency_of=lambda order: order.dossier.receiving_agency_id,
    guard=refuse_read_only,
    event="PaymentOrderChanged",
    event_payload=lambda order, *, action, from_status, to_status, at: {
        "order": order.pk,
        "dossier": order.dossier_id,
        "from": from_status,
        "to": to_status,
    },
    select_related=("dossier",),
)


# ---------------------------------------------------------------- how much


@dataclasses.dataclass(frozen=True)
class Quote:
    amount_full: int  # before the online discount
    discount_percent: int
    discount_rule: str
    amount: int  # what is paid now

    @property
    def discount(self) -> int:
        return self.amount_full - self.amount


def quote(dossier: Dossier) -> Quote:
    """What is still due on the dossier, and the online discount in it.

    The dossier's fee_due was fixed at submission (dossiers.services: the
    procedure's amount_due, with the catalog's online discount for an online
    submission); that is what is paid, never a recomputation from today's
    catalog. The discount is data: Procedure.online_discount_percent (the
    province's resolution, kept per procedure in the catalog). A dossier
    submitted at the counter gets no online discount when paid online."""
    amount = max(0, dossier.fee_due - dossier.fee_paid)
    procedure = dossier.procedure
    percent = procedure.online_discount_percent if dossier.channel == Channel.ONLINE else 0
    full = amount
    if percent and amount:
        full = max(amount, procedure.amount_due(online=False) - dossier.fee_paid)
    if full == amount:
        return Quote(amount, 0, "", amount)
    rule = (
        f"Giảm {percent}% phí, lệ phí khi nộp hồ sơ trực tuyến "
        f"(mức giảm của thủ tục {procedure.code} trong danh mục thủ tục hành chính của tỉnh)"
    )
    return Quote(full, percent, rule, amount)


# ---------------------------------------------------------------- opening an order


def _order_minutes() -> int:
    return int(settings.CQS.get("PAYMENT_ORDER_MINUTES", 30))


def _site_url(path: str) -> str:
    return settings.CQS.get("SITE_URL", "").rstrip("/") + path


def callback_url() -> str:
    return _site_url(reverse("portal:payment_callback"))


def return_url(order: PaymentOrder) -> str:
    return _site_url(reverse("portal:payment_return", args=[order.order_ref]))


def _check_payable(dossier: Dossier, actor) -> None:
    if not getattr(actor, "is_citizen", False) or dossier.applicant_id != actor.pk:
        raise PermissionDenied("Chỉ người nộp hồ sơ được thanh toán trực tuyến cho hồ sơ này.")
    if dossier.status not in OPEN_STATUSES:
        raise DomainError(
            f"Hồ sơ {dossier.code} ở trạng thái “{dossier.get_status_display()}” không cần thanh toán.", "status"
        )
    if dossier.fee_paid >= dossier.fee_due:
        raise DomainError(f"Hồ sơ {dossier.code} không còn khoản phí, lệ phí nào phải nộp.", "amount")


def open_order(dossier: Dossier, *, actor, at=None) -> PaymentOrder:
    """The order the citizen pays now: the open one for the same amount, or a new one; then asked of the
    platform (outside the transaction), which gives the pay page. A failed platform call leaves the order
    'created': the next try sends the same order reference, which the platform treats as the same payment."""
    forbid_inside_transaction()
    order = _current_or_new_order(dossier, actor=actor, at=at)
    if order.status == PaymentOrder.Status.PENDING and order.pay_url:
        return order
    try:
        intent = payment_gateway().create_payment(
            order_ref=order.order_ref,
            amount=order.amount,
            description=f"Phí, lệ phí hồ sơ {dossier.code}",
            return_url=return_url(order),
            callback_url=callback_url(),
        )
    except NationalSystemError as error:
        raise DomainError(error.message, "gateway") from None
    if intent.amount != order.amount:
        raise DomainError("Nền tảng thanh toán trả về số tiền không khớp; hãy thử lại sau.", "gateway")

    def save():
        locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status == PaymentOrder.Status.CREATED:
            locked.status = PaymentOrder.Status.PENDING
        if not locked.transaction_ref:
            locked.transaction_ref = intent.transaction_ref
        locked.pay_url, locked.qr_payload = intent.pay_url, intent.qr_payload
        locked.save(update_fields=["status", "transaction_ref", "pay_url", "qr_payload"])
        audit.record(
            actor=actor,
            action="payment.pending",
            obj=locked,
            agency_id=dossier.receiving_agency_id,
            after=_snapshot(locked),
        )
        return locked

    return workflow.atomic_retrying(save)


def _current_or_new_order(dossier: Dossier, *, actor, at=None) -> PaymentOrder:
    at = workflow.now(at)

    def body():
        locked = Dossier.objects.select_for_update().select_related("procedure").get(pk=dossier.pk)
        _check_payable(locked, actor)
        due = quote(locked)
        fresh_after = at - dt.timedelta(minutes=_order_minutes())
        current = (
            PaymentOrder.objects.filter(
                dossier=locked,
                status__in=[PaymentOrder.Status.CREATED, PaymentOrder.Status.PENDING],
                amount=due.amount,
                created_at__gte=fresh_after,
            )
            .order_by("-created_at")
            .first()
        )
        if current is not None:
            return current
        order = PaymentOrder.objects.create(
            order_ref="TT" + secrets.token_hex(10).upper(),
            dossier=locked,
            amount_full=due.amount_full,
            discount_percent=due.discount_percent,
            discount_rule=due.discount_rule,
            amount=due.amount,
            created_by=actor,
            created_at=at,
        )
        ORDER_WORKFLOW.created(order, actor=actor, action="create", at=at)
        return order

    return workflow.atomic_retrying(body)


# ---------------------------------------------------------------- settling from the platform's word


def _log_entry(source: str, status: str, at: dt.datetime, **extra) -> dict:
    return {"at": at.isoformat(), "source": source, "status": status, **{k: v for k, v in extra.items() if v}}


def settle(
    order: PaymentOrder,
    *,
    status: str,
    source: str,
    amount: int | None = None,
    paid_at: dt.datetime | None = None,
    event_id: str = "",
    at=None,
) -> PaymentOrder:
    """Apply what the platform said (`source`: "callback" signed, or "query" asked by us) to the order,
    under its lock. Paid records the dossier's Payment once; a late "paid" after our expiry or a
    cancellation still records it (the money was taken). Nothing moves a paid order back."""
    if status not in PAYMENT_STATUSES:
        raise DomainError("Trạng thái thanh toán không hợp lệ.", "status")

    def body():
        locked, now = ORDER_WORKFLOW.begin(order, None, at)
        locked.callback_log = [*locked.callback_log, _log_entry(source, status, now, event_id=event_id)][
            -CALLBACK_LOG_MAX:
        ]
        if locked.status == PaymentOrder.Status.PAID or status in ("pending", locked.status):
            locked.save(update_fields=["callback_log"])
            return locked
        if status == PaymentOrder.Status.PAID:
            return _mark_paid(locked, source=source, amount=amount, paid_at=paid_at or now, now=now)
        ORDER_WORKFLOW.transition(locked, actor=None, action=status, to_status=status, at=now)
        return locked

    return workflow.atomic_retrying(body)


def _mark_paid(order: PaymentOrder, *, source: str, amount: int | None, paid_at, now) -> PaymentOrder:
    if amount is not None and amount != order.amount:
        # Not this order's payment as we asked for it: keep it visible for reconciliation, record nothing.
        order.note = (
            f"Nền tảng báo đã thu {format_number(amount)} đồng, khác số tiền yêu cầu "
            f"{format_number(order.amount)} đồng: cần đối soát."
        )
        order.save(update_fields=["callback_log", "note"])
        return order
    changes = {"paid_at": paid_at, "verified_at": now, "verified_by": source}
    try:
        with transaction.atomic():
            payment = dossier_services.record_payment(
                order.dossier,
                actor=order.dossier.applicant,
                amount=order.amount,
                method=Payment.Method.ONLINE,
                transaction_ref=order.transaction_ref,
                at=paid_at,
                confirmed_by_gateway=True,
            )
        changes["payment"] = payment
    except DomainError as error:
        # E.g. the fee was meanwhile paid at the counter: the money is in, the dossier cannot take it.
        changes["note"] = f"Đã thu tiền nhưng không ghi được vào hồ sơ ({error.message}): cần hoàn trả hoặc đối soát."
    ORDER_WORKFLOW.transition(
        order, actor=None, action="paid", to_status=PaymentOrder.Status.PAID, at=now, changes=changes
    )
    return order


def handle_callback(body: bytes, signature: str) -> PaymentOrder:
    """The platform's server-to-server notice. Refused unless signed with the merchant secret; the
    order, reference and amount must be ours."""
    if not payment_signature_valid(body, signature, settings.CQS.get("PAYMENT_SECRET", "")):
        raise PermissionDenied("Chữ ký của thông báo thanh toán không hợp lệ.")
    data = params.loads(body)
    if not isinstance(data, dict):
        raise DomainError("Thông báo thanh toán phải là một đối tượng JSON.", "body")
    order_ref, transaction_ref = nfc(str(data.get("order_ref", ""))), nfc(str(data.get("transaction_ref", "")))
    status, amount = data.get("status"), data.get("amount")
    if status not in PAYMENT_STATUSES or not isinstance(amount, int) or isinstance(amount, bool):
        raise DomainError("Thông báo thanh toán thiếu trạng thái hoặc số tiền.", "body")
    order = PaymentOrder.objects.select_related("dossier").filter(order_ref=order_ref).first()
    if order is None:
        raise NotFound("Không có yêu cầu thanh toán này.")
    if not transaction_ref or (order.transaction_ref and order.transaction_ref != transaction_ref):
        raise DomainError("Mã giao dịch không khớp với yêu cầu thanh toán.", "transaction_ref")
    if not order.transaction_ref:  # the platform answered our create call but we had not saved it yet
        PaymentOrder.objects.filter(pk=order.pk, transaction_ref="").update(transaction_ref=transaction_ref)
        order.transaction_ref = transaction_ref
    paid_at = None
    if data.get("paid_at"):
        try:
            paid_at = params.check_moment(dt.datetime.fromisoformat(str(data["paid_at"])), "paid_at")
        except (ValueError, DomainError):
            paid_at = None
    if paid_at is not None and paid_at.tzinfo is None:
        paid_at = None
    return settle(
        order, status=status, source="callback", amount=amount, paid_at=paid_at, event_id=str(data.get("event_id", ""))
    )


def refresh(order: PaymentOrder, *, at=None) -> tuple[PaymentOrder, str]:
    """Ask the platform about an order that is not settled (the return page, reconciliation): never the
    browser's word. Returns the order and a Vietnamese message when the platform could not answer."""
    forbid_inside_transaction()
    if order.is_final and order.status != PaymentOrder.Status.EXPIRED:
        return order, ""
    if not order.transaction_ref:
        return order, ""
    try:
        info = payment_gateway().payment_info(order.transaction_ref)
    except NationalSystemError as error:
        return order, error.message
    now = workflow.now(at)
    status = info.status
    if status == "pending" and order.created_at < now - dt.timedelta(minutes=_order_minutes()):
        status = PaymentOrder.Status.EXPIRED
    if status == order.status:
        return order, ""
    return settle(order, status=status, source="query", amount=info.amount, paid_at=info.paid_at, at=at), ""


# ---------------------------------------------------------------- refunds


def record_refund(order: PaymentOrder, *, actor, amount: int, reason: str, completed: bool, at=None) -> Refund:
    """Hoàn trả: recorded by the receiving counter or its leader, never more than was paid."""
    reason = nfc_lines(reason)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise DomainError("Số tiền hoàn trả phải là số nguyên dương (đồng).", "amount")
    if not reason:
        raise DomainError("Hãy ghi lý do hoàn trả.", "reason")

    def body():
        locked, now = ORDER_WORKFLOW.begin(order, actor, at)
        agency_id = dossier_services.counter_agency_id(locked.dossier)
        require_role(actor, agency_id, *REFUND_ROLES, message=REFUND_ROLE_MESSAGE)
        if locked.status != PaymentOrder.Status.PAID:
            raise DomainError("Chỉ hoàn trả được khoản đã thanh toán.", "status")
        refunded = sum(r.amount for r in locked.refunds.all())
        if amount > locked.amount - refunded:
            raise DomainError(
                f"Số tiền hoàn trả vượt quá số còn lại có thể hoàn ({format_number(locked.amount - refunded)} đồng).",
                "amount",
            )
        refund = Refund.objects.create(
            order=locked,
            amount=amount,
            reason=reason,
            status=Refund.Status.COMPLETED if completed else Refund.Status.RECORDED,
            recorded_by=actor,
            recorded_at=now,
        )
        audit.record(
            actor=actor,
            action="payment.refund",
            obj=locked,
            agency_id=agency_id,
            at=now,
            after={"refund": refund.pk, "amount": amount, "status": refund.status, "refunded": refunded + amount},
        )
        return refund

    return workflow.atomic_retrying(body)

"""Online payment against the payment platform simulator running as its own process: the order with
the online discount, the signed callback (verified, idempotent, forged ones refused), failed and
cancelled payments, asking the platform instead of trusting the browser, refunds, reconciliation
with the platform's statement, the receipt PDF, and the online-payment indicator."""

import datetime as dt
import json

import pytest

from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.dossiers import services as dossiers
from chinhquyenso.dossiers.models import Payment
from chinhquyenso.exchange.national.base import payment_signature
from chinhquyenso.exchange.national.http import HttpPaymentGateway
from chinhquyenso.payments import receipts, selectors, services
from chinhquyenso.payments.models import PaymentOrder, Refund
from chinhquyenso.procedures.models import Procedure
from tests.conftest import vn
from tests.exchange.connectors.busfixtures import connect
from tests.payments.conftest import SECRET, submit_online

pytestmark = pytest.mark.django_db(transaction=True)  # the live server's thread must see the data


def paid_order(simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    result = simulator.simulate(order.transaction_ref, status="paid")
    assert result["status"] == 200, result
    order.refresh_from_db()
    return order


# ---------------------------------------------------------------- the order


def test_the_order_is_the_fee_due_with_the_online_discount(offline_simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    assert (order.amount_full, order.discount_percent, order.amount, order.discount) == (8000, 50, 4000, 4000)
    assert "Giảm 50%" in order.discount_rule and "1.001193" in order.discount_rule
    assert order.status == PaymentOrder.Status.PENDING and order.transaction_ref.startswith("PG")
    assert order.pay_url == f"{offline_simulator.url}/pay/{order.transaction_ref}"
    assert order.qr_payload == f"PAYGOV-SIM|{order.transaction_ref}|4000"
    page = offline_simulator.pay_page(order.transaction_ref)
    assert "4.000 đồng" in page.text and "Thanh toán" in page.text and "Hủy" in page.text
    # Asking again (a double click, a return to the page) opens no second payment.
    assert services.open_order(dossier, actor=citizen).pk == order.pk
    assert PaymentOrder.objects.count() == 1


def test_a_counter_dossier_paid_online_gets_no_online_discount(offline_simulator, birth_procedure, citizen, officers):
    dossier = submit_online(citizen)
    dossier.channel, dossier.fee_due = "counter", 8000
    dossier.save(update_fields=["channel", "fee_due"])
    quote = services.quote(dossier)
    assert (quote.amount_full, quote.discount_percent, quote.amount) == (8000, 0, 8000)


def test_only_the_applicant_pays_and_only_what_is_due(offline_simulator, dossier, citizen, officers):
    with pytest.raises(PermissionDenied):
        services.open_order(dossier, actor=officers["xa_a"]["counter_officer"])
    free = Procedure.objects.get(code="1.001193")
    free.charge = 0
    free.save()
    nothing_due = submit_online(citizen)
    with pytest.raises(DomainError, match="không còn khoản phí"):
        services.open_order(nothing_due, actor=citizen)


def test_the_platform_unreachable_is_said_plainly_and_a_retry_reuses_the_order(settings, dossier, citizen):
    connect(settings, PAYMENT_ADAPTER="bus", PAYMENT_BASE_URL="http://127.0.0.1:9", NATIONAL_RETRIES=0)
    with pytest.raises(DomainError, match="Không kết nối được Nền tảng thanh toán"):
        services.open_order(dossier, actor=citizen)
    order = PaymentOrder.objects.get()
    assert order.status == PaymentOrder.Status.CREATED
    with pytest.raises(DomainError):
        services.open_order(dossier, actor=citizen)
    assert PaymentOrder.objects.count() == 1


# ---------------------------------------------------------------- the callback


def test_a_signed_callback_records_one_online_payment(simulator, dossier, citizen):
    order = paid_order(simulator, dossier, citizen)
    assert order.status == PaymentOrder.Status.PAID and order.verified_by == "callback" and order.verified_at
    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.transaction_ref) == ("online", 4000, order.transaction_ref)
    assert order.payment_id == payment.pk
    dossier.refresh_from_db()
    assert dossier.fee_paid == 4000
    # The platform retries the same callback: answered 200, recorded once.
    again = simulator.resend(order.transaction_ref)
    assert again["status"] == 200 and json.loads(again["body"])["status"] == "paid"
    assert Payment.objects.count() == 1
    order.refresh_from_db()
    assert [e["source"] for e in order.callback_log] == ["callback", "callback"]


def test_a_forged_callback_is_refused(simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    result = simulator.simulate(order.transaction_ref, status="paid", signature="bad")
    assert result["status"] == 403
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.PENDING and not Payment.objects.exists()


def test_a_callback_for_another_amount_records_nothing(simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    assert simulator.simulate(order.transaction_ref, status="paid", amount=1)["status"] == 200
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.PENDING and "cần đối soát" in order.note
    assert not Payment.objects.exists()


def test_callback_without_secret_configured_is_refused(client, settings, offline_simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    body = json.dumps(
        {"order_ref": order.order_ref, "transaction_ref": order.transaction_ref, "amount": 4000, "status": "paid"}
    ).encode()
    settings.CQS = {**settings.CQS, "PAYMENT_SECRET": ""}
    answer = client.post(
        "/thanh-toan/ket-qua/",
        body,
        content_type="application/json",
        headers={"X-Payment-Signature": payment_signature(body, "")},
    )
    assert answer.status_code == 403 and not Payment.objects.exists()


def test_callback_for_an_unknown_order_or_reference(client, offline_simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    for data, status in [
        ({"order_ref": "TTKHONGCO", "transaction_ref": order.transaction_ref, "amount": 4000, "status": "paid"}, 404),
        ({"order_ref": order.order_ref, "transaction_ref": "PGKHAC", "amount": 4000, "status": "paid"}, 400),
        ({"order_ref": order.order_ref, "transaction_ref": order.transaction_ref, "status": "xong"}, 400),
    ]:
        body = json.dumps(data).encode()
        answer = client.post(
            "/thanh-toan/ket-qua/",
            body,
            content_type="application/json",
            headers={"X-Payment-Signature": payment_signature(body, SECRET)},
        )
        assert answer.status_code == status, data
    assert not Payment.objects.exists()


@pytest.mark.parametrize("action", ["cancelled", "failed"])
def test_a_cancelled_or_failed_payment_records_nothing_and_can_be_retried(simulator, dossier, citizen, action):
    order = services.open_order(dossier, actor=citizen)
    assert simulator.simulate(order.transaction_ref, status=action)["status"] == 200
    order.refresh_from_db()
    assert order.status == action and not Payment.objects.exists()
    retry = services.open_order(dossier, actor=citizen)
    assert retry.pk != order.pk and retry.status == PaymentOrder.Status.PENDING


def test_the_platform_is_asked_when_no_callback_came(offline_simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    order, problem = services.refresh(order)
    assert (order.status, problem) == (PaymentOrder.Status.PENDING, "")  # the browser's return proves nothing
    offline_simulator.simulate(order.transaction_ref, status="paid", callback=False)
    order, problem = services.refresh(order)
    assert order.status == PaymentOrder.Status.PAID and order.verified_by == "query" and problem == ""
    assert Payment.objects.get().transaction_ref == order.transaction_ref


def test_an_old_unpaid_order_expires_and_a_late_payment_still_counts(offline_simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    later = order.created_at + dt.timedelta(minutes=31)
    order, _ = services.refresh(order, at=later)
    assert order.status == PaymentOrder.Status.EXPIRED
    offline_simulator.simulate(order.transaction_ref, status="paid", callback=False)
    order, _ = services.refresh(order)
    assert order.status == PaymentOrder.Status.PAID and Payment.objects.count() == 1


def test_a_fee_paid_at_the_counter_meanwhile_is_flagged_for_refund(offline_simulator, dossier, citizen, officers):
    order = services.open_order(dossier, actor=citizen)
    dossiers.accept(dossier, actor=officers["xa_a"]["counter_officer"])
    dossiers.record_payment(dossier, actor=officers["xa_a"]["counter_officer"], amount=4000, method="counter")
    offline_simulator.simulate(order.transaction_ref, status="paid", callback=False)
    order, _ = services.refresh(order)
    assert order.status == PaymentOrder.Status.PAID and order.payment_id is None and "cần hoàn trả" in order.note
    assert Payment.objects.filter(method="online").count() == 0


# ---------------------------------------------------------------- refunds, reconciliation, receipt


def test_refund_is_recorded_by_the_counter_never_more_than_paid(simulator, dossier, citizen, officers):
    order = paid_order(simulator, dossier, citizen)
    with pytest.raises(PermissionDenied):
        services.record_refund(order, actor=officers["xa_a"]["specialist"], amount=1000, reason="Sai", completed=True)
    with pytest.raises(PermissionDenied):
        services.record_refund(
            order, actor=officers["xa_b"]["counter_officer"], amount=1000, reason="x", completed=True
        )
    counter = officers["xa_a"]["counter_officer"]
    refund = services.record_refund(order, actor=counter, amount=3000, reason="Nộp trùng", completed=False)
    assert (refund.amount, refund.status, refund.recorded_by) == (3000, Refund.Status.RECORDED, counter)
    with pytest.raises(DomainError, match="vượt quá"):
        services.record_refund(order, actor=counter, amount=1001, reason="Nộp trùng", completed=True)
    with pytest.raises(DomainError, match="lý do"):
        services.record_refund(order, actor=counter, amount=1000, reason="  ", completed=True)
    services.record_refund(order, actor=officers["xa_a"]["leader"], amount=1000, reason="Phần còn lại", completed=True)
    assert sum(r.amount for r in order.refunds.all()) == 4000


def test_reconciliation_finds_what_the_statement_and_our_records_disagree_on(
    offline_simulator, dossier, birth_procedure, citizen, officers
):
    counter = officers["xa_a"]["counter_officer"]
    paid = services.open_order(dossier, actor=citizen)
    offline_simulator.simulate(paid.transaction_ref, status="paid", callback=False)
    paid, _ = services.refresh(paid)
    services.record_refund(paid, actor=counter, amount=1000, reason="Thu thừa", completed=True)
    # Paid at the platform, never told to us and never asked about: a mismatch.
    unseen = services.open_order(submit_online(citizen), actor=citizen)
    offline_simulator.simulate(unseen.transaction_ref, status="paid", callback=False)
    # Recorded paid here but absent from the platform's statement (e.g. a reference typed by hand).
    ghost = services.open_order(submit_online(citizen), actor=citizen)
    PaymentOrder.objects.filter(pk=ghost.pk).update(status="paid", paid_at=paid.paid_at, transaction_ref="PGKHONGCO")
    today = paid.paid_at.astimezone(dt.UTC).date()
    start, end = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    statement, problem = selectors.fetch_statement(start, end)
    assert problem == "" and {line.transaction_ref for line in statement} == {
        paid.transaction_ref,
        unseen.transaction_ref,
    }
    report = selectors.reconciliation(counter, start=start, end=end, statement=statement)
    assert (report.order_count, report.paid_count, report.paid_amount, report.refunded_amount) == (3, 2, 8000, 1000)
    assert report.net_amount == 7000
    kinds = {(m.transaction_ref, m.kind) for m in report.mismatches}
    assert ("PGKHONGCO", "Đã thu tiền nhưng chưa ghi vào hồ sơ") in kinds
    assert ("PGKHONGCO", "Hệ thống ghi đã thu, sao kê của nền tảng không có") in kinds
    assert (unseen.transaction_ref, "Nền tảng đã thu, hệ thống ghi “chờ thanh toán”") in kinds
    assert not [m for m in report.mismatches if m.transaction_ref == paid.transaction_ref]
    # Another commune's officer sees none of it.
    other = selectors.reconciliation(officers["xa_b"]["counter_officer"], start=start, end=end, statement=statement)
    assert other.order_count == 0 and not [m for m in other.mismatches if m.order is not None]
    with pytest.raises(DomainError, match="tối đa 31 ngày"):
        selectors.reconciliation(counter, start=start, end=start + dt.timedelta(days=31), statement=None)


def test_http_adapter_speaks_the_simulator(offline_simulator):
    gateway = HttpPaymentGateway()
    intent = gateway.create_payment(order_ref="TT-ADAPTER", amount=12000, description="Lệ phí")
    assert gateway.create_payment(order_ref="TT-ADAPTER", amount=12000, description="Lệ phí") == intent
    info = gateway.payment_info(intent.transaction_ref)
    assert (info.status, info.amount, info.order_ref, info.paid_at) == ("pending", 12000, "TT-ADAPTER", None)
    offline_simulator.simulate(intent.transaction_ref, status="paid", callback=False)
    info = gateway.payment_info(intent.transaction_ref)
    assert info.status == "paid" and info.paid_at.tzinfo is not None
    assert [line.amount for line in gateway.statement(info.paid_at.date())] == [12000]


def test_the_receipt_is_a_pdf_of_the_verified_payment(simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    with pytest.raises(DomainError, match="Chỉ có biên lai"):
        receipts.receipt_pdf(order)
    order = paid_order(simulator, dossier, citizen)
    context = receipts.receipt_context(order)
    assert (context["amount_full"], context["discount"], context["amount"]) == (
        "8.000 đồng",
        "4.000 đồng",
        "4.000 đồng",
    )
    assert context["transaction_ref"] == order.transaction_ref and context["payer"] == "Nguyễn Thị Hoà"
    assert receipts.receipt_pdf(order).startswith(b"%PDF")


# ---------------------------------------------------------------- the indicator


def test_the_online_payment_indicator_counts_only_confirmed_payments(
    offline_simulator, registry, birth_procedure, citizen, officers
):
    from chinhquyenso.indicators.periods import parse_period
    from chinhquyenso.indicators.selectors import compute
    from chinhquyenso.indicators.services import rebuild_facts

    counter = officers["xa_a"]["counter_officer"]
    paid, flagged, typed = (submit_online(citizen, at=vn(2025, 3, 10, 8 + n)) for n in range(3))
    for d in (paid, flagged, typed):
        dossiers.accept(d, actor=counter, at=vn(2025, 3, 11, 9))
    order = services.open_order(paid, actor=citizen)
    offline_simulator.simulate(order.transaction_ref, status="paid", callback=False)
    services.refresh(order)
    # A fee marked paid with no payment, and an "online" payment without the platform's reference.
    flagged.fee_paid = flagged.fee_due
    flagged.save(update_fields=["fee_paid"])
    Payment.objects.create(
        dossier=typed, amount=typed.fee_due, method="online", transaction_ref="", paid_at=vn(2025, 3, 11, 10)
    )
    rebuild_facts()
    value = compute(parse_period("2025-M03")).get("online_payment_rate")
    assert (value.numerator, value.denominator) == (1, 3)


def test_a_citizen_cannot_declare_an_online_payment_the_platform_did_not_confirm(dossier, citizen):
    """The API's `pay` action and the service under it: an online payment by the applicant is recorded
    only through a payment order the platform confirmed, never on the citizen's word."""
    from django.test import Client

    client = Client()
    client.force_login(citizen)
    response = client.post(
        f"/api/dossiers/{dossier.code}/actions/pay",
        {"amount": dossier.fee_due, "method": "online", "transaction_ref": "TU-KHAI-1"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["field"] == "method", response.content
    assert "nền tảng thanh toán xác nhận" in response.json()["detail"]
    with pytest.raises(DomainError):
        dossiers.record_payment(
            dossier, actor=citizen, amount=dossier.fee_due, method="online", transaction_ref="TU-KHAI-2"
        )
    assert Payment.objects.count() == 0
    dossier.refresh_from_db()
    assert dossier.fee_paid == 0

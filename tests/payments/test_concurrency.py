"""A payment callback delivered twice at once (the platform retrying while the first is still being
handled) records one dossiers.Payment: the order row's lock decides. PostgreSQL only (run with
DATABASE_URL=postgres://…); skipped on SQLite."""

import json

import pytest

from chinhquyenso.dossiers.models import Payment
from chinhquyenso.exchange.national.base import payment_signature
from chinhquyenso.payments import services
from chinhquyenso.payments.models import PaymentOrder
from tests.core.test_workflow import run_at_once
from tests.payments.conftest import SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_callback_at_once_records_one_payment(offline_simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    body = json.dumps(
        {
            "event_id": "e-1",
            "order_ref": order.order_ref,
            "transaction_ref": order.transaction_ref,
            "amount": order.amount,
            "status": "paid",
            "paid_at": "2026-12-06T09:30:00+07:00",
        }
    ).encode()
    signature = payment_signature(body, SECRET)
    results = run_at_once(6, lambda i: services.handle_callback(body, signature).status)
    assert results == ["paid"] * 6, results
    assert Payment.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "paid" and len(order.callback_log) == 6
    dossier.refresh_from_db()
    assert dossier.fee_paid == order.amount


def test_a_callback_and_the_return_page_at_once_record_one_payment(offline_simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    offline_simulator.simulate(order.transaction_ref, status="paid", callback=False)
    body = json.dumps(
        {"order_ref": order.order_ref, "transaction_ref": order.transaction_ref, "amount": 4000, "status": "paid"}
    ).encode()
    signature = payment_signature(body, SECRET)

    def work(i):
        if i % 2:
            return services.handle_callback(body, signature).status
        return services.refresh(PaymentOrder.objects.get(pk=order.pk))[0].status

    assert run_at_once(4, work) == ["paid"] * 4
    assert Payment.objects.count() == 1

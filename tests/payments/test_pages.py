"""The payment pages without JavaScript: the citizen's pay page, the platform's pay page (simulator
process), the return page showing only what the platform confirmed, the receipt; the officers'
reconciliation and refund with its confirmation."""

import re

import httpx
import pytest
from django.test import Client

from chinhquyenso.dossiers.models import Payment
from chinhquyenso.payments import services
from chinhquyenso.payments.models import PaymentOrder, Refund

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_citizen_pays_through_the_simulator_pages(simulator, dossier, citizen):
    client = signed_in(citizen)
    receipt = client.get(f"/ho-so/{dossier.code}/bien-nhan/")
    assert f'href="/ho-so/{dossier.code}/thanh-toan/"' in receipt.content.decode()
    mine = client.get("/ca-nhan/").content.decode()
    assert f'href="/ho-so/{dossier.code}/thanh-toan/"' in mine
    response = client.get(f"/ho-so/{dossier.code}/thanh-toan/")
    # Browsers apply form-action to the redirect after the post: the platform's origin is allowed there.
    assert f"form-action 'self' {simulator.url}" in response["Content-Security-Policy"]
    page = response.content.decode()
    assert "8.000 đồng" in page and "4.000 đồng" in page and "Giảm 50%" in page
    assert "<script" not in page.split("<main", 1)[-1].split("</main>")[0]
    go = client.post(f"/ho-so/{dossier.code}/thanh-toan/")
    assert go.status_code == 302 and go["Location"].startswith(f"{simulator.url}/pay/PG")
    ref = go["Location"].rsplit("/", 1)[1]
    # The citizen clicks "Thanh toán" on the platform's page: callback first, then the browser comes back.
    back = simulator.click(ref, "pay")
    assert back.status_code == 303
    order = PaymentOrder.objects.get()
    assert back.headers["location"].endswith(f"/thanh-toan/{order.order_ref}/")
    assert order.status == "paid" and Payment.objects.count() == 1
    done = client.get(f"/thanh-toan/{order.order_ref}/").content.decode()
    assert f"Đã thanh toán 4.000 đồng, mã giao dịch {ref}." in done
    assert f'href="/thanh-toan/{order.order_ref}/bien-lai.pdf"' in done
    pdf = client.get(f"/thanh-toan/{order.order_ref}/bien-lai.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # Nothing left to pay: no link, no button.
    assert "thanh-toan/" not in client.get("/ca-nhan/").content.decode().split("Đã nộp", 1)[1]
    assert "Thanh toán trực tuyến</button>" not in client.get(f"/ho-so/{dossier.code}/thanh-toan/").content.decode()


def test_coming_back_without_paying_shows_what_the_platform_says(offline_simulator, dossier, citizen):
    client = signed_in(citizen)
    go = client.post(f"/ho-so/{dossier.code}/thanh-toan/")
    ref = go["Location"].rsplit("/", 1)[1]
    order = PaymentOrder.objects.get()
    # The browser comes back on its own (or with a forged redirect): the platform still says pending.
    page = client.get(f"/thanh-toan/{order.order_ref}/?status=paid").content.decode()
    assert "chưa xác nhận" in page and "Đã thanh toán" not in page and not Payment.objects.exists()
    offline_simulator.click(ref, "cancel")
    page = client.get(f"/thanh-toan/{order.order_ref}/").content.decode()
    assert "Người nộp đã hủy" in page and "Thanh toán lại" in page
    pdf = client.get(f"/thanh-toan/{order.order_ref}/bien-lai.pdf")
    assert pdf.status_code == 302


def test_someone_else_cannot_see_the_order(offline_simulator, dossier, citizen):
    from chinhquyenso.accounts import services as accounts

    order = services.open_order(dossier, actor=citizen)
    other = accounts.create_citizen(identity_number="089012340000", full_name="Lê Văn Tư", password="Cong-dan-2025")
    client = signed_in(other)
    assert client.get(f"/thanh-toan/{order.order_ref}/").status_code == 404
    assert client.get(f"/ho-so/{dossier.code}/thanh-toan/").status_code == 404
    assert Client().get(f"/thanh-toan/{order.order_ref}/").status_code == 302  # to sign in


def test_the_callback_answers_json_and_needs_no_csrf_token(offline_simulator, dossier, citizen):
    client = Client(enforce_csrf_checks=True)
    answer = client.post("/thanh-toan/ket-qua/", b"{}", content_type="application/json")
    assert answer.status_code == 403 and answer.json()["ok"] is False
    assert client.get("/thanh-toan/ket-qua/").status_code == 405


def test_the_officer_reconciles_and_records_a_refund_after_confirming(
    simulator, dossier, citizen, officers, django_assert_max_num_queries
):
    services.open_order(dossier, actor=citizen)
    order = PaymentOrder.objects.get()
    simulator.simulate(order.transaction_ref, status="paid")
    counter = signed_in(officers["xa_a"]["counter_officer"])
    # The page itself: 25 queries; each day's statement is one call through the data bus, whose
    # circuit check and signed message log (hash chain) take 6 more, and on PostgreSQL 8: the log entry
    # commits in a transaction of its own without waiting for the disk (BEGIN, SET LOCAL
    # synchronous_commit, COMMIT). 7 days at most: a Sunday has all seven.
    with django_assert_max_num_queries(25 + 8 * 7):
        page = counter.get("/can-bo/thanh-toan/doi-soat/?sao_ke=1").content.decode()
    assert dossier.code in page and "Không có chênh lệch" in page and "4.000 đồng" in page
    form = counter.get(f"/can-bo/thanh-toan/{order.order_ref}/hoan-tra/").content.decode()
    assert 'name="so_tien"' in form and 'value="4000"' in form
    confirm = counter.post(f"/can-bo/thanh-toan/{order.order_ref}/hoan-tra/", {"so_tien": "4.000", "ly_do": "Nộp nhầm"})
    text = confirm.content.decode()
    assert "Xác nhận hoàn trả" in text and "4.000 đồng" in text and not Refund.objects.exists()
    too_much = counter.post(f"/can-bo/thanh-toan/{order.order_ref}/hoan-tra/", {"so_tien": "5000", "ly_do": "x"})
    assert "vượt quá" in too_much.content.decode()
    done = counter.post(
        f"/can-bo/thanh-toan/{order.order_ref}/hoan-tra/",
        {"so_tien": "4000", "ly_do": "Nộp nhầm", "da_chuyen": "1", "xac_nhan": "1"},
        follow=True,
    )
    assert re.search(r"Đã ghi nhận hoàn trả 4\.000 đồng cho hồ sơ", done.content.decode())
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.reason) == (4000, "completed", "Nộp nhầm")
    # Another commune's officer: not found, and nothing of it in their reconciliation.
    other = signed_in(officers["xa_b"]["counter_officer"])
    assert other.get(f"/can-bo/thanh-toan/{order.order_ref}/hoan-tra/").status_code == 404
    assert dossier.code not in other.get("/can-bo/thanh-toan/doi-soat/").content.decode()
    assert signed_in(citizen).get("/can-bo/thanh-toan/doi-soat/").status_code == 403


def test_reconciliation_says_when_the_statement_is_unavailable(settings, officers, province):
    settings.CQS = {**settings.CQS, "PAYMENT_ADAPTER": "simulator"}
    page = signed_in(officers["xa_a"]["leader"]).get("/can-bo/thanh-toan/doi-soat/?sao_ke=1").content.decode()
    assert "Chưa đối chiếu được với sao kê" in page
    bad = signed_in(officers["xa_a"]["leader"]).get("/can-bo/thanh-toan/doi-soat/?tu=2025-01-01&den=2025-03-01")
    assert "tối đa 31 ngày" in bad.content.decode()


def test_pay_page_of_the_simulator_is_plain_html(offline_simulator, dossier, citizen):
    order = services.open_order(dossier, actor=citizen)
    page = httpx.get(order.pay_url, timeout=10).text
    assert '<html lang="vi">' in page and "<script" not in page and "bản mô phỏng" in page


def test_without_the_simulator_process_the_in_process_stand_in_settles_at_once(settings, dossier, citizen):
    settings.CQS = {**settings.CQS, "PAYMENT_ADAPTER": "simulator"}
    client = signed_in(citizen)
    go = client.post(f"/ho-so/{dossier.code}/thanh-toan/")
    order = PaymentOrder.objects.get()
    assert go["Location"] == f"https://dvc.example.gov.vn/thanh-toan/{order.order_ref}/"
    page = client.get(f"/thanh-toan/{order.order_ref}/").content.decode()
    assert f"Đã thanh toán 4.000 đồng, mã giao dịch {order.transaction_ref}." in page
    assert Payment.objects.get().transaction_ref.startswith("SIM")

"""Online payment of a dossier's fees, on the citizen's side (works without JavaScript):

- /ho-so/<code>/thanh-toan/ — how much (with the online discount), a button that opens the order at
  the payment platform and sends the browser to its pay page;
- /thanh-toan/<order_ref>/ — where the platform sends the browser back: the status shown is the one
  the platform confirmed (its signed callback, or our own question to it), never the redirect's word;
- /thanh-toan/<order_ref>/bien-lai.pdf — the electronic receipt;
- /thanh-toan/ket-qua/ — the platform's server-to-server callback (signed, CSRF-exempt, no personal
  data in the URL), answering JSON."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.headers import CONTENT_SECURITY_POLICY
from chinhquyenso.core.http import pdf_response
from chinhquyenso.exchange.national.base import SIGNATURE_HEADER
from chinhquyenso.payments import receipts, services
from chinhquyenso.payments import selectors as payments
from chinhquyenso.portal.views import _own_dossier, citizen_required

log = logging.getLogger(__name__)
CALLBACK_MAX_BYTES = 16 * 1024


def payment_page_origin() -> str:
    """Where the platform's pay pages live: CQS_PAYMENT_PAGE_ORIGIN, else the origin of its API."""
    configured = settings.CQS.get("PAYMENT_PAGE_ORIGIN", "") or settings.CQS.get("PAYMENT_BASE_URL", "")
    url = urlsplit(configured)
    return f"{url.scheme}://{url.netloc}" if url.scheme in ("http", "https") and url.netloc else ""


def _allow_form_to_platform(response):
    """Our pages may post only to ourselves (form-action 'self'), and browsers apply that to the
    redirect after the post as well: the pay page's form may also end at the platform's pay page."""
    origin = payment_page_origin()
    if origin:
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


@citizen_required
def pay(request, code):
    dossier = _own_dossier(request, code)
    error = ""
    if request.method == "POST":
        try:
            order = services.open_order(dossier, actor=request.user)
        except DomainError as failure:
            error = failure.message
        else:
            return HttpResponseRedirect(order.pay_url)
    dossier.refresh_from_db(fields=["fee_paid", "fee_due", "status"])
    response = render(
        request,
        "portal/payment.html",
        {
            "dossier": dossier,
            "quote": services.quote(dossier),
            "orders": payments.orders_of_dossier(dossier),
            "payable": dossier.fee_paid < dossier.fee_due and dossier.is_open,
            "error": error,
        },
    )
    return _allow_form_to_platform(response)


@citizen_required
def payment_return(request, order_ref):
    order = payments.own_order(request.user, order_ref)
    if order is None:
        raise Http404("Không tìm thấy yêu cầu thanh toán.")
    order, problem = services.refresh(order)
    order = payments.own_order(request.user, order_ref)
    return render(request, "portal/payment_return.html", {"order": order, "dossier": order.dossier, "problem": problem})


@citizen_required
def payment_receipt(request, order_ref):
    order = payments.own_order(request.user, order_ref)
    if order is None:
        raise Http404("Không tìm thấy yêu cầu thanh toán.")
    if order.status != order.Status.PAID:
        messages.error(request, "Chưa có biên lai: khoản này chưa được thanh toán.")
        return redirect("portal:payment_return", order_ref=order.order_ref)
    return pdf_response(receipts.receipt_pdf(order), f"bien-lai-{order.dossier.code}-{order.pk}.pdf")


@csrf_exempt
@require_POST
def payment_callback(request):
    """The platform's notice. 200 when handled (also a repeat), 403 for a bad signature, 400/404 when it
    is not about one of our orders; the platform retries anything but a 2xx."""
    body = request.body
    if len(body) > CALLBACK_MAX_BYTES:
        return JsonResponse({"ok": False, "detail": "Thông báo quá lớn."}, status=413)
    try:
        order = services.handle_callback(body, request.headers.get(SIGNATURE_HEADER, ""))
    except DomainError as error:
        log.warning("thông báo thanh toán bị từ chối: %s", error.message)
        return JsonResponse({"ok": False, "detail": error.message}, status=error.status_code)
    return JsonResponse({"ok": True, "status": order.status})

"""Webhooks of the messaging channels. Not under /api/: each answers in its platform's shape, and
is exempt from CSRF (the platform signs its requests instead; assistant.channels.zalo)."""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from chinhquyenso.assistant.channels import services, zalo
from chinhquyenso.core.errors import Conflict
from chinhquyenso.core.throttle import RateLimited
from chinhquyenso.exchange.senders import ZALO_TEXT_MAX

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def zalo_webhook(request):
    """An event of the Zalo Official Account. 200 for every valid event, answered or not (Zalo
    should not send it again); 403 when it was not signed by Zalo for this app or is too old; 400
    malformed; 413 too large; 404 while the channel is not configured."""
    try:
        incoming = zalo.parse(request)
    except zalo.Refused as refused:
        log.warning("Zalo webhook refused (%s): %s", refused.status, refused.reason)
        return JsonResponse({"error": refused.status, "message": refused.reason}, status=refused.status)
    if incoming is None:
        return JsonResponse({"error": 0, "message": "ignored"})
    try:
        reply = services.receive(incoming, limit=ZALO_TEXT_MAX)
    except RateLimited:
        log.warning("Zalo webhook: message %s not answered, its sender asks too fast", incoming.message_id)
        return JsonResponse({"error": 0, "message": "throttled"})
    except Conflict:  # the same message id with another text: answered already, never twice
        log.warning("Zalo webhook: message %s seen before with another content", incoming.message_id)
        return JsonResponse({"error": 0, "message": "duplicate"})
    replayed = getattr(reply, "replayed", False)
    log.info("Zalo webhook: message %s %s", incoming.message_id, "seen before" if replayed else "answered")
    return JsonResponse({"error": 0, "message": "replayed" if replayed else "answered"})

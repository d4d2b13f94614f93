"""The chat page (/tro-ly/) and sending a question the assistant could not answer (/tro-ly/gui-cau-hoi/).

Plain forms that work without JavaScript (assistant/static/assistant/chat.js only saves a page
load). The page shows the session's turns, kept in the visitor's own session for
conversation.EXPIRE_MINUTES. Sending a question goes through the feedback services (a report in
the "hỏi đáp" category): a signed-in citizen sends at once, anyone else verifies a phone number by
SMS code first, as on the feedback form."""

from __future__ import annotations

import time
import uuid

from django.shortcuts import redirect, render
from django.urls import reverse

from chinhquyenso.assistant import answers, conversation, throttle
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.http import client_ip
from chinhquyenso.core.text import nfc, nfc_lines

TURNS = "assistant_turns"
LAST = "assistant_last"
PENDING = "assistant_question"  # the last question the assistant could not answer
PHONE = "assistant_phone"  # the anonymous sender's verified phone (as the feedback service normalized it)
KEPT_TURNS = 10


def _turns(request) -> list[dict]:
    if time.time() - request.session.get(LAST, 0) > conversation.EXPIRE_MINUTES * 60:
        request.session.pop(TURNS, None)
    return request.session.get(TURNS, [])


def _session_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def chat(request):
    error, status, question = "", 200, ""
    if request.method == "POST":
        question = request.POST.get("question", "")
        try:
            throttle.QUESTIONS.check(client_ip(request))
            user = request.user if request.user.is_authenticated else None
            answer = answers.ask(question, session_key=_session_key(request), user=user, channel="web")
        except DomainError as exc:
            error, status = exc.message, exc.status_code
        else:
            turns = _turns(request) + [
                {
                    "question": nfc(question),
                    "text": answer.text,
                    "procedures": answer.procedures,
                    "confident": answer.confident,
                    "links": answer.links,
                }
            ]
            request.session[TURNS] = turns[-KEPT_TURNS:]
            request.session[LAST] = time.time()
            if not answer.confident:
                request.session[PENDING] = nfc(question)
            return redirect(reverse("assistant:chat") + f"#luot-{len(request.session[TURNS])}")
    return render(
        request,
        "assistant/chat.html",
        {"turns": _turns(request), "error": error, "question": question, "max_length": answers.MAX_LENGTH},
        status=status,
    )


def send(request):
    """Send a question to the agencies: a feedback report in the "hỏi đáp" category."""
    from chinhquyenso.feedback import selectors as feedback_selectors
    from chinhquyenso.feedback import services as feedback

    citizen = getattr(request.user, "is_citizen", False)
    values = {
        "question": request.session.get(PENDING, ""),
        "area_code": "",
        "name": "",
        "email": "",
        "idempotency_key": uuid.uuid4().hex,
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        post = request.POST
        values.update({k: post.get(k, "") for k in ("question", "area_code", "name", "email", "idempotency_key")})
        try:
            if post.get("action") == "send_code":
                sent = feedback.send_verification_code(post.get("phone", ""), client_ip=client_ip(request))
                request.session[PHONE] = sent.phone
            else:
                if not citizen and not request.session.get(PHONE):
                    raise DomainError("Hãy nhận mã xác minh qua tin nhắn trước (hoặc đăng nhập).", "phone")
                report = feedback.submit(
                    feedback.Submission(
                        category_code=answers.FEEDBACK_CATEGORY,
                        description=nfc_lines(values["question"]),
                        area_code=nfc(values["area_code"]),
                        name=values["name"],
                        phone="" if citizen else request.session.get(PHONE, ""),
                        email=values["email"],
                    ),
                    reporter=request.user if citizen else None,
                    channel="web",
                    idempotency_key=values["idempotency_key"][:100],
                    verification_code=post.get("verification_code", "").strip(),
                    client_ip=client_ip(request),
                )
                request.session.pop(PENDING, None)
                request.session.pop(PHONE, None)
                return redirect(reverse("feedback:follow", args=[report.token]) + "?moi=1")
        except DomainError as exc:
            field = exc.field or "form"
            errors["question" if field == "description" else field] = exc.message
            status = exc.status_code
    return render(
        request,
        "assistant/send.html",
        {
            "values": values,
            "errors": errors,
            "citizen": citizen,
            "phone": request.session.get(PHONE, ""),
            "communes": feedback_selectors.commune_choices(),
        },
        status=status,
    )

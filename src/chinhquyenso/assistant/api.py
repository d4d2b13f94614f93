"""POST /api/assistant/ask — the procedure assistant for other channels (apps, the chat widget).

Open to anyone, like the chat page: no sign-in, no CSRF token (nothing of the caller's changes:
the question is counted, masked, in the maintainers' list). A signed-in session whose request
carries a valid CSRF token is the account asking (a dossier's owner learns what to add); without
the token the question is answered as for anyone, so another site cannot ask in a citizen's name.
Rate-limited per address (assistant.throttle)."""

from __future__ import annotations

from ninja import Router, Schema
from ninja.utils import check_csrf
from pydantic import Field

from chinhquyenso.assistant import answers, throttle
from chinhquyenso.core.http import client_ip

router = Router()


class AskIn(Schema):
    question: str = Field(max_length=answers.MAX_LENGTH * 2, description="Câu hỏi (tối đa 500 ký tự sau chuẩn hóa)")
    session: str = Field("", max_length=200, description="Mã phiên do ứng dụng tự đặt, để hỏi tiếp nối")


class ProcedureOut(Schema):
    code: str
    name: str
    url: str


class LinkOut(Schema):
    label: str
    url: str


class AnswerOut(Schema):
    answer: str
    procedures: list[ProcedureOut]
    confident: bool
    kind: str
    links: list[LinkOut]


def _asker(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and check_csrf(request) is None:
        return user
    return None


@router.post("ask", response=AnswerOut, auth=None, summary="Hỏi trợ lý thủ tục hành chính")
def ask(request, payload: AskIn):
    """Trả lời câu hỏi về thủ tục (giấy tờ, thời hạn, phí, lệ phí, nơi nộp, nộp trực tuyến, căn cứ pháp
    lý) hoặc tình trạng hồ sơ theo mã hồ sơ, luôn dẫn nguồn thủ tục. `confident`: false khi trợ lý
    không chắc (kèm gợi ý, số điện thoại hỗ trợ và đường dẫn gửi câu hỏi)."""
    throttle.QUESTIONS.check(client_ip(request))
    answer = answers.ask(
        payload.question,
        session_key=f"api:{payload.session}" if payload.session else "",
        user=_asker(request),
        channel="api",
    )
    return {
        "answer": answer.text,
        "procedures": answer.procedures,
        "confident": answer.confident,
        "kind": answer.kind,
        "links": answer.links,
    }

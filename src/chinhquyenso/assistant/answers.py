"""The procedure assistant: a question in plain Vietnamese → an answer composed from the catalog.

    ask(question, session_key=…, user=None, channel="web") -> Answer

1. The question is cleaned (core.text.nfc, at most MAX_LENGTH characters).
2. Its kind is detected from data (data/intents.json: phrases per kind, matched on folded
   syllables like the search index): fee, time, papers, where, online, legal_basis,
   dossier_status (a dossier code in the text, or a phrase such as "tra cứu hồ sơ"), else find.
3. Registered answer sources (core.registry.ANSWER_SOURCES, see assistant.sources) are asked
   first; the first answer wins.
4. A dossier question is answered by the public tracking rules: status, step, dates — no personal
   data — and, for the signed-in owner, the open supplement requests' items.
5. Otherwise the question, less its kind's phrases and follow-up fillers, is searched
   (assistant.index.search). The answer is confident when the best hit's score and its margin over
   the second hit pass the thresholds below, or when one of the best hit's FAQ entries matches the
   question closely (its answer is quoted). A follow-up without a procedure of its own ("còn lệ
   phí thì sao?") is answered for the conversation's procedure (assistant.conversation).
6. The facts are the catalog's structured fields only, and the procedure is always cited (code,
   name, portal link); a field the catalog leaves empty is said to be missing, never guessed.
7. Not confident: it says so, offers the search results, the hotline (CQS["HOTLINE"] when the
   province set one, else the one-stop centre from the agency list) and a link to send the
   question (a feedback report in the "hỏi đáp" category); the question is logged, masked, for the
   catalog maintainers (assistant.records).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from chinhquyenso.assistant import conversation, index, records, sources
from chinhquyenso.assistant.models import FaqEntry
from chinhquyenso.assistant.text import drop_stop_phrases, syllables, terms
from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import format_number, nfc
from chinhquyenso.org.models import Agency, AgencyKind, Level
from chinhquyenso.procedures.models import Procedure, ServiceLevel
from chinhquyenso.procedures.selectors import handling_agencies

DATA = Path(__file__).resolve().parent / "data"
MAX_LENGTH = 500
# Confidence (calibrated on tests/assistant/data/questions.json; docs/assistant.md, "Quality"). BM25
# scores grow with the question's length, so a raw score does not tell a known procedure from an
# unknown one (questions about procedures outside the catalog score as high as right answers). What
# does: the share of the question's words (syllables, by weight) the best hit matches at all —
# "xin visa đi Mỹ" leaves "visa" unmatched. Confident: that coverage at least MIN_COVERAGE and the
# best hit ahead of the second by MIN_MARGIN of its score. On the question set: 97 % of the
# unknown questions are not confident; 69 % of the others are confident with the right procedure.
MIN_COVERAGE = 0.7
MIN_MARGIN = 0.03
# A FAQ entry is quoted when this share of its question's terms (syllables and syllable pairs,
# stop phrases dropped) is in the question, over at least FAQ_MIN_TERMS terms.
FAQ_MIN_SHARE = 0.75
FAQ_MIN_TERMS = 4
SUGGESTIONS = 3
FEEDBACK_CATEGORY = "hoi-dap"

# A dossier code: <agency electronic code or code>-<yymmdd>-<running number> (dossiers.services.next_code).
DOSSIER_CODE = re.compile(r"(?<![0-9A-Za-z.-])([0-9A-Za-z][0-9A-Za-z.-]*-\d{6}-\d{4,})(?![0-9A-Za-z-])")

KIND_LABELS = {
    "fee": "phí, lệ phí",
    "time": "thời hạn giải quyết",
    "papers": "thành phần hồ sơ",
    "where": "nơi nộp hồ sơ",
    "online": "nộp trực tuyến",
    "legal_basis": "căn cứ pháp lý",
    "dossier_status": "tình trạng hồ sơ",
    "find": "thủ tục",
}


@dataclass(frozen=True)
class Answer:
    """`procedures`: [{"code", "name", "url"}] cited, best first; `links`: [{"label", "url"}]
    offered besides (the tracking page, sending the question); `kind`: what the question asked."""

    text: str
    procedures: list[dict] = field(default_factory=list)
    confident: bool = False
    kind: str = "find"
    links: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Intent:
    kind: str
    query: str  # the question without its kind's phrases: what is searched for the procedure
    remainder: str  # also without follow-up fillers and stop phrases: empty for "còn lệ phí thì sao?"
    dossier_code: str = ""


# ---------------------------------------------------------------------- intents (data)


@cache
def _intents() -> dict:
    data = json.loads((DATA / "intents.json").read_text(encoding="utf-8"))
    phrases = [
        (kind, tuple(syllables(phrase)))
        for kind, items in data["kinds"].items()
        for phrase in items
        if syllables(phrase)
    ]
    return {
        "priority": {kind: i for i, kind in enumerate(data["priority"])},
        "phrases": sorted(phrases, key=lambda kp: -len(kp[1])),
        "exclude": [tuple(syllables(p)) for p in data.get("exclude", []) if syllables(p)],
        "fillers": sorted(
            (tuple(syllables(p)) for p in data.get("fillers", []) if syllables(p)), key=len, reverse=True
        ),
    }


def _find(tokens: list[str], phrase: tuple[str, ...]) -> list[int]:
    n = len(phrase)
    return [i for i in range(len(tokens) - n + 1) if tuple(tokens[i : i + n]) == phrase]


def detect(question: str) -> Intent:
    """The kind of `question` and the words left to search for a procedure."""
    data = _intents()
    code = DOSSIER_CODE.search(question or "")
    text = question[: code.start()] + " " + question[code.end() :] if code else question
    tokens = syllables(text)
    masked = [False] * len(tokens)  # positions inside an excluded phrase match no kind
    for phrase in data["exclude"]:
        for i in _find(tokens, phrase):
            masked[i : i + len(phrase)] = [True] * len(phrase)
    best: tuple[int, int, str] | None = None  # (-length, priority, kind)
    used = [False] * len(tokens)
    for kind, phrase in data["phrases"]:
        for i in _find(tokens, phrase):
            if any(masked[i : i + len(phrase)]):
                continue
            if code is None or kind != "papers":  # "hồ sơ <code>": the dossier, not its papers
                candidate = (-len(phrase), data["priority"].get(kind, 99), kind)
                best = min(best, candidate) if best else candidate
            used[i : i + len(phrase)] = [True] * len(phrase)
    kind = "dossier_status" if code else (best[2] if best else "find")
    query = [t for t, u in zip(tokens, used) if not u] if kind != "find" else tokens
    rest = list(query)
    for phrase in data["fillers"]:
        for i in reversed(_find(rest, phrase)):
            del rest[i : i + len(phrase)]
    return Intent(
        kind=kind,
        query=" ".join(query),
        remainder=" ".join(drop_stop_phrases(rest)),
        dossier_code=code.group(1) if code else "",
    )


# ---------------------------------------------------------------------- helpers


def clean_question(question) -> str:
    text = nfc(question)
    if not text:
        raise DomainError("Hãy nhập câu hỏi.", "question")
    if len(text) > MAX_LENGTH:
        raise DomainError(f"Câu hỏi tối đa {MAX_LENGTH} ký tự.", "question")
    return text


def _absolute(path: str) -> str:
    site = (settings.CQS.get("SITE_URL") or "").rstrip("/")
    return f"{site}{path}"


def cite(procedure) -> dict:
    """{"code", "name", "url"}: the procedure's page on the portal."""
    return {
        "code": procedure.code,
        "name": procedure.name,
        "url": _absolute(reverse("portal:procedure", args=[procedure.code])),
    }


def money(amount: int) -> str:
    return f"{format_number(amount)} đồng"


def _days(n: int) -> str:
    return f"{n} ngày làm việc"


def _vndate(moment) -> str:
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment)
    return moment.strftime("%d/%m/%Y")


def _source_line(procedure) -> str:
    c = cite(procedure)
    return f"Nguồn: danh mục thủ tục hành chính, thủ tục {c['code']} “{c['name']}” ({c['url']})."


def coverage(query: str, hit) -> float:
    """The share (by weight) of the query's syllables that `hit` matches in some field."""
    words = [t for t in index.analyse(query) if "_" not in t.term]
    total = sum(t.weight for t in words)
    if not total:
        return 0.0
    matched = {c.term for c in hit.explanation}
    return sum(t.weight for t in words if t.term in matched) / total


def is_confident(query: str, hits) -> bool:
    if not hits or coverage(query, hits[0]) < MIN_COVERAGE:
        return False
    second = hits[1].score if len(hits) > 1 else 0.0
    return hits[0].score - second >= MIN_MARGIN * hits[0].score


def _faq_terms(text: str) -> set[str]:
    return set(terms(drop_stop_phrases(syllables(text))))


def matching_faq(question: str, procedure_id: int) -> FaqEntry | None:
    """The procedure's FAQ entry whose question is (almost) in the asked one and asks the same kind
    of thing (a fee question is never answered with the entry about where to submit), or None."""
    asked, kind = _faq_terms(question), detect(question).kind
    best, best_share = None, 0.0
    for entry in FaqEntry.objects.filter(procedure_id=procedure_id, is_active=True).only("question", "answer"):
        if detect(entry.question).kind != kind:
            continue
        wanted = _faq_terms(entry.question)
        if len(wanted) < FAQ_MIN_TERMS:
            continue
        share = len(wanted & asked) / len(wanted)
        if share > best_share:
            best, best_share = entry, share
    return best if best_share >= FAQ_MIN_SHARE else None


# ---------------------------------------------------------------------- composing from the catalog


def _load(code: str) -> Procedure | None:
    return (
        Procedure.objects.filter(code=code, is_active=True)
        .select_related("field")
        .prefetch_related("components")
        .first()
    )


def _fee_text(p: Procedure) -> list[str]:
    counter = p.amount_due(online=False)
    if counter == 0:
        return [f"Theo danh mục, thủ tục “{p.name}” không thu phí, lệ phí."]
    parts = []
    if p.fee:
        parts.append(f"phí {money(p.fee)}")
    if p.charge:
        parts.append(f"lệ phí {money(p.charge)}")
    lines = [f"Theo danh mục, thủ tục “{p.name}” thu {' và '.join(parts)}: nộp trực tiếp là {money(counter)}."]
    if p.service_level != ServiceLevel.INFO_ONLY:
        online = p.amount_due(online=True)
        if online != counter:
            lines.append(f"Nộp trực tuyến được giảm {p.online_discount_percent}%, còn {money(online)}.")
        else:
            lines.append(f"Nộp trực tuyến cũng là {money(online)}.")
    return lines


def _time_text(p: Procedure) -> list[str]:
    return [
        f"Thời hạn giải quyết thủ tục “{p.name}” là {_days(p.processing_days)} kể từ khi nhận đủ hồ sơ hợp lệ"
        " (không tính thứ Bảy, Chủ nhật và ngày lễ)."
    ]


def _component_line(c) -> str:
    counts = []
    if c.originals:
        counts.append(f"{c.originals} bản chính")
    if c.copies:
        counts.append(f"{c.copies} bản sao")
    return f"- {c.label}" + (f": {', '.join(counts)}" if counts else "")


def _papers_text(p: Procedure) -> list[str]:
    components = sorted(p.components.all(), key=lambda c: c.order)
    if not components:
        return [f"Danh mục chưa ghi thành phần hồ sơ của thủ tục “{p.name}”."]
    return [f"Hồ sơ thủ tục “{p.name}” gồm:", *(_component_line(c) for c in components)]


def _where_text(p: Procedure) -> list[str]:
    agencies = list(handling_agencies(p, timezone.localdate()).current().order_by("name"))
    levels = [Level(level).label.lower() for level in (p.levels or []) if level in Level.values]
    lines = []
    if agencies:
        names = [a.name for a in agencies]
        if len(names) > 5:
            kinds = sorted({a.get_kind_display() for a in agencies})
            lines.append(
                f"Thủ tục “{p.name}” do {', '.join(kinds)} giải quyết ({len(names)} cơ quan): "
                "nộp hồ sơ tại Bộ phận Một cửa của cơ quan nơi bạn cư trú hoặc có việc cần giải quyết."
            )
        else:
            lines.append(
                f"Thủ tục “{p.name}” do {', '.join(names)} giải quyết; nộp hồ sơ tại Bộ phận Một cửa của cơ quan này."
            )
    else:
        lines.append(f"Danh mục chưa ghi cơ quan đang giải quyết thủ tục “{p.name}”.")
    if levels:
        lines.append(f"Cấp thực hiện: {', '.join(levels)}.")
    if p.service_level != ServiceLevel.INFO_ONLY:
        lines.append("Bạn cũng có thể nộp trực tuyến trên Cổng dịch vụ công của tỉnh.")
    return lines


def _online_text(p: Procedure) -> list[str]:
    if p.service_level == ServiceLevel.FULL_ONLINE:
        return [
            f"Có. Thủ tục “{p.name}” là dịch vụ công trực tuyến toàn trình: nộp hồ sơ, theo dõi và nhận kết quả "
            "trực tuyến, không phải đến cơ quan."
        ]
    if p.service_level == ServiceLevel.PARTLY_ONLINE:
        return [
            f"Được một phần. Thủ tục “{p.name}” là dịch vụ công trực tuyến một phần: bạn nộp hồ sơ trực tuyến, "
            "nhưng còn phải đến cơ quan (ví dụ để nộp bản giấy hoặc nhận kết quả)."
        ]
    return [f"Chưa. Thủ tục “{p.name}” chỉ cung cấp thông tin trực tuyến; hồ sơ nộp trực tiếp tại Bộ phận Một cửa."]


def _legal_text(p: Procedure) -> list[str]:
    if not p.legal_basis.strip():
        return [f"Danh mục chưa ghi căn cứ pháp lý của thủ tục “{p.name}”."]
    return [f"Căn cứ pháp lý của thủ tục “{p.name}” theo danh mục:", p.legal_basis.strip()]


def _find_text(p: Procedure) -> list[str]:
    lines = [f"Thủ tục phù hợp nhất: “{p.name}” (mã {p.code}, lĩnh vực {p.field.name})."]
    lines += _time_text(p)
    lines += _fee_text(p)
    lines.append(ServiceLevel(p.service_level).label + ".")
    if p.result_name:
        lines.append(f"Kết quả: {p.result_name}.")
    lines.append("Hỏi thêm “cần giấy tờ gì”, “nộp ở đâu”, “mất bao lâu” để biết chi tiết.")
    return lines


COMPOSERS = {
    "fee": _fee_text,
    "time": _time_text,
    "papers": _papers_text,
    "where": _where_text,
    "online": _online_text,
    "legal_basis": _legal_text,
    "find": _find_text,
}


def compose(procedure: Procedure, kind: str) -> Answer:
    """The answer to a question of `kind` about `procedure`, from its catalog fields only."""
    lines = COMPOSERS.get(kind, _find_text)(procedure)
    return Answer(
        text="\n".join([*lines, _source_line(procedure)]),
        procedures=[cite(procedure)],
        confident=True,
        kind=kind,
    )


# ---------------------------------------------------------------------- not sure


def hotline() -> str:
    """How to reach a person: the province's hotline (CQS["HOTLINE"]) when set, else the one-stop
    centre's name from the agency list, else the one-stop section in general."""
    number = (getattr(settings, "CQS", {}) or {}).get("HOTLINE", "")
    if number:
        return f"gọi đường dây nóng {number}"
    centre = Agency.objects.current().filter(kind=AgencyKind.SERVICE_CENTER).order_by("name").first()
    if centre:
        return f"liên hệ {centre.name}"
    return "liên hệ Bộ phận Một cửa nơi bạn nộp hồ sơ"


def send_question_link() -> dict:
    return {"label": "Gửi câu hỏi cho cơ quan", "url": _absolute(reverse("assistant:send"))}


def unsure(question: str, hits, *, kind: str, channel: str) -> Answer:
    best = hits[0] if hits else None
    records.record_unanswered(
        question, best_code=best.code if best else "", best_score=best.score if best else 0.0, channel=channel
    )
    shown = list(Procedure.objects.filter(code__in=[h.code for h in hits[:SUGGESTIONS]]))
    order = {h.code: i for i, h in enumerate(hits)}
    shown.sort(key=lambda p: order[p.code])
    lines = ["Xin lỗi, tôi chưa chắc trả lời đúng câu hỏi này."]
    if shown:
        lines.append("Có thể bạn đang tìm một trong các thủ tục sau:")
        lines += [f"- {p.name} (mã {p.code})" for p in shown]
    link = send_question_link()
    lines.append(f"Bạn có thể {hotline()}, hoặc gửi câu hỏi để cơ quan trả lời: {link['url']}")
    return Answer(text="\n".join(lines), procedures=[cite(p) for p in shown], confident=False, kind=kind, links=[link])


# ---------------------------------------------------------------------- dossiers


def dossier_answer(code: str, user) -> Answer:
    """Where a dossier is, by the public tracking rules (no personal data); its owner, signed in,
    also learns what must be added (open supplement requests)."""
    from chinhquyenso.dossiers import selectors as dossiers
    from chinhquyenso.dossiers.models import Dossier, Status

    track = {"label": "Tra cứu hồ sơ", "url": _absolute(reverse("portal:track"))}
    if not code:
        return Answer(
            text="Hãy cho biết mã hồ sơ (in trên giấy biên nhận, ví dụ 000.00.15.H01-250123-0007) "
            "để tôi tra cứu tình trạng hồ sơ.",
            confident=True,
            kind="dossier_status",
            links=[track],
        )
    dossier = (
        Dossier.objects.filter(code__in={code, code.upper()})
        .select_related("procedure", "receiving_agency", "current_agency")
        .first()
    )
    track = {"label": "Tra cứu hồ sơ", "url": _absolute(reverse("portal:track")) + f"?ma={code.upper()}"}
    if dossier is None:
        return Answer(
            text=f"Không tìm thấy hồ sơ có mã “{code}”. Hãy kiểm tra lại mã trên giấy biên nhận.",
            confident=True,
            kind="dossier_status",
            links=[track],
        )
    p = dossier.procedure
    lines = [f"Hồ sơ {dossier.code} (thủ tục “{p.name}”): {dossier.get_status_display().lower()}."]
    lines.append(f"Cơ quan tiếp nhận: {dossier.receiving_agency.name}; ngày nộp {_vndate(dossier.submitted_at)}.")
    if dossier.status in (Status.IN_PROCESS, Status.PAUSED):
        steps = list(p.steps.order_by("order"))
        if 0 <= dossier.current_step < len(steps):
            step = steps[dossier.current_step]
            lines.append(
                f"Đang ở bước {dossier.current_step + 1}/{len(steps)}: {step.name}, tại {dossier.current_agency.name}."
            )
    if dossier.is_open:
        due, estimated = dossiers.appointment(dossier)
        lines.append(f"Ngày hẹn trả kết quả: {_vndate(due)}{' (dự kiến)' if estimated else ''}.")
    if dossier.finished_at:
        lines.append(f"Ngày có kết quả: {_vndate(dossier.finished_at)}.")
    if dossier.returned_at:
        lines.append(f"Ngày trả kết quả: {_vndate(dossier.returned_at)}.")
    owner = user is not None and getattr(user, "is_authenticated", False) and dossier.applicant_id == user.pk
    waiting = dossier.status in (Status.SUPPLEMENT_REQUESTED, Status.PAUSED)
    if owner:
        open_requests = list(dossier.supplement_requests.filter(fulfilled_at__isnull=True).order_by("requested_at"))
        if open_requests:
            lines.append("Bạn cần bổ sung:")
            for request in open_requests:
                lines += [f"- {item}" for item in request.items]
                if request.reason:
                    lines.append(f"Lý do: {request.reason}")
        elif waiting:
            lines.append("Hồ sơ đang chờ bổ sung; xem chi tiết trên trang tra cứu hồ sơ.")
        else:
            lines.append("Hồ sơ không có yêu cầu bổ sung nào đang chờ.")
    elif waiting:
        lines.append("Hồ sơ đang chờ bổ sung. Người nộp hồ sơ đăng nhập để xem cần bổ sung những gì.")
    return Answer(text="\n".join(lines), procedures=[cite(p)], confident=True, kind="dossier_status", links=[track])


# ---------------------------------------------------------------------- the assistant


def catalog_answer(question: str, intent: Intent, *, conversation_code: str, channel: str) -> Answer:
    hits = index.search(intent.query, limit=10) if intent.remainder else []
    if not hits and intent.kind != "find" and conversation_code:
        procedure = _load(conversation_code)  # a follow-up: the conversation's procedure
        if procedure is not None:
            return compose(procedure, intent.kind)
    confident = is_confident(intent.query, hits)
    if hits and not confident:
        faq = matching_faq(question, hits[0].procedure_id)
        if faq is not None:
            confident = True
    if not confident:
        return unsure(question, hits, kind=intent.kind, channel=channel)
    procedure = _load(hits[0].code)
    if procedure is None:  # deactivated since the index was built
        return unsure(question, hits, kind=intent.kind, channel=channel)
    faq = matching_faq(question, procedure.pk)
    if faq is not None:
        return Answer(
            text="\n".join([faq.answer, _source_line(procedure)]),
            procedures=[cite(procedure)],
            confident=True,
            kind=intent.kind,
        )
    return compose(procedure, intent.kind)


def ask(question, *, session_key: str = "", user=None, channel: str = "web") -> Answer:
    """Answer `question` (see the module). `session_key`: the caller's session (its hash keys the
    conversation); `user`: the signed-in account or None; `channel`: "web", "api", "zalo", …"""
    text = clean_question(question)
    at = timezone.now()
    intent = detect(text)
    remembered = conversation.current_procedure(session_key, at)
    context = sources.Context(kind=intent.kind, procedure_code=remembered, user=user, channel=channel)
    answer = sources.ask(text, context, Answer)
    if answer is None:
        if intent.kind == "dossier_status":
            answer = dossier_answer(intent.dossier_code, user)
        else:
            answer = catalog_answer(text, intent, conversation_code=remembered, channel=channel)
    about = answer.procedures[0]["code"] if answer.confident and answer.procedures else None
    if answer.kind == "dossier_status":
        about = None  # a dossier's procedure is not what the next question is about
    conversation.remember(session_key, about, at)
    return answer

"""The catalog maintainers' pages of the procedure assistant: why a query ranks as it does, and
the questions the assistant could not answer (add a synonym or a FAQ entry, mark handled).

Only the province administrator maintains the catalog (there is no narrower catalog role in
accounts); other officers and citizens get the 403 page. Writes go through assistant.services
(audited); the index of this process sees them at once, other processes within a minute."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.assistant import index, services
from chinhquyenso.assistant.models import UnansweredQuestion
from chinhquyenso.core.errors import DomainError
from chinhquyenso.procedures import selectors as procedures

MAINTAINERS_ONLY = "Trang này chỉ dành cho cán bộ quản trị danh mục thủ tục (quản trị tỉnh)."
maintainer_required = officer_required(allowed=is_province_admin, reason=MAINTAINERS_ONLY)
PAGE_SIZE = 100
ORDERS = {"nhieu": ("-times", "-last_asked_at"), "moi": ("-last_asked_at", "-times")}


@maintainer_required
def search_debug(request):
    q = request.GET.get("q", "")[:200]
    terms, hits = [], []
    if q.strip():
        terms = index.analyse(q)
        hits = [(hit, index.explain(hit)) for hit in index.search(q, limit=20)]
    return render(request, "backoffice/assistant_search.html", {"q": q, "terms": terms, "hits": hits})


@maintainer_required
def unanswered(request):
    order = request.GET.get("sap_xep", "nhieu")
    order = order if order in ORDERS else "nhieu"
    show_resolved = request.GET.get("da_xu_ly") == "1"
    questions = UnansweredQuestion.objects.filter(resolved_at__isnull=not show_resolved).order_by(*ORDERS[order])
    return render(
        request,
        "backoffice/assistant_unanswered.html",
        {"questions": questions[:PAGE_SIZE], "order": order, "show_resolved": show_resolved},
    )


@maintainer_required
@require_POST
def unanswered_act(request, pk: int):
    """action=synonym (phrase, expansion) | faq (procedure code, question, answer) | resolve."""
    question = get_object_or_404(UnansweredQuestion, pk=pk)
    post, action = request.POST, request.POST.get("action", "")
    try:
        with transaction.atomic():
            if action == "synonym":
                synonym = services.save_synonym(
                    actor=request.user, phrase=post.get("phrase", ""), expansion=post.get("expansion", "")
                )
                resolution = f"Thêm từ đồng nghĩa “{synonym.phrase}” → “{synonym.expansion}”"
            elif action == "faq":
                procedure = procedures.get_procedure(post.get("procedure_code", "").strip())
                if procedure is None:
                    raise DomainError("Không có thủ tục với mã này.", "procedure_code")
                services.save_faq_entry(
                    actor=request.user,
                    procedure=procedure,
                    question=post.get("question", ""),
                    answer=post.get("answer", ""),
                )
                resolution = f"Thêm câu hỏi thường gặp cho thủ tục {procedure.code}"
            elif action == "resolve":
                resolution = post.get("resolution", "").strip() or "Đã xem, không cần bổ sung"
            else:
                raise DomainError("Thao tác không hợp lệ.", "action")
            services.resolve_unanswered(actor=request.user, question=question, resolution=resolution)
    except DomainError as error:
        messages.error(request, f"Câu hỏi “{question.text}”: {error.message}")
    else:
        messages.success(request, f"{resolution}. Tìm kiếm dùng ngay thay đổi này.")
    return redirect("backoffice:assistant_unanswered")

"""The data subject's page for the province administrator (/can-bo/du-lieu-ca-nhan/):
find a citizen by ID number (posted, never in a URL), export, rectify, erase.
Thin: every read and write goes through privacy.services, which checks the
role again and audits."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.accounts.selectors import is_province_admin
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.core.http import pdf_response
from chinhquyenso.core.pdf import render_pdf
from chinhquyenso.privacy import retention, services

controller_required = officer_required(allowed=is_province_admin, reason=services.CONTROLLER_ONLY)


@controller_required
def find(request):
    error, status = "", 200
    if request.method == "POST":
        try:
            subject = services.find_subject(request.user, request.POST.get("identity_number", ""))
        except NotFound as failure:
            error, status = failure.message, 404
        except DomainError as failure:
            error, status = failure.message, failure.status_code
        else:
            return redirect("privacy:subject", pk=subject.pk)
    return render(
        request,
        "privacy/find.html",
        {"error": error, "retention": retention.table().values()},
        status=status,
    )


def _subject_page(request, subject, *, errors=None, values=None, status=200):
    return render(
        request,
        "privacy/subject.html",
        {
            "subject": subject,
            "counts": {
                "dossiers": services.dossiers_of(subject).count(),
                "feedback": services.feedback_of(subject).count(),
                "messages": services.messages_to(subject).count(),
            },
            "retention": retention.table().values(),
            "errors": errors or {},
            "values": values or {},
        },
        status=status,
    )


@controller_required
def subject_page(request, pk):
    subject = services.get_subject(request.user, pk)
    if request.method != "POST":
        return _subject_page(request, subject)
    post, action = request.POST, request.POST.get("action", "")
    try:
        if action == "rectify":
            changed = services.rectify(
                request.user,
                subject,
                full_name=post.get("full_name", ""),
                phone=post.get("phone", ""),
                email=post.get("email", ""),
                address=post.get("address", ""),
            )
            messages.success(request, "Đã cập nhật thông tin." if changed else "Thông tin không thay đổi.")
        elif action == "erase":
            if post.get("confirm") != "1":
                raise DomainError("Hãy đánh dấu ô xác nhận trước khi xóa dữ liệu.", "erase")
            services.erase(request.user, subject)
            messages.success(request, "Đã xóa, ẩn danh dữ liệu được phép xóa; hồ sơ phải lưu trữ được giữ lại.")
        else:
            raise DomainError("Thao tác không hợp lệ.", "action")
    except DomainError as error:
        field = error.field if error.field in ("full_name", "phone", "email", "address", "erase") else action
        return _subject_page(request, subject, errors={field: error.message}, values=post, status=error.status_code)
    return redirect("privacy:subject", pk=subject.pk)


@controller_required
@require_POST
def export(request, pk, fmt):
    subject = services.get_subject(request.user, pk)
    data = services.export(request.user, subject, fmt)
    name = f"du-lieu-ca-nhan-{subject.pk}"
    if fmt == "pdf":
        response = pdf_response(render_pdf("privacy/export_pdf.html", {"data": data}), f"{name}.pdf")
    else:
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    response["Cache-Control"] = "private, no-store"  # personal data: never kept by a cache
    return response

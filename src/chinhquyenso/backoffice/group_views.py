"""Liên thông on the officer's dossier page: sending a failed part again (the counter that received
the application). The parts themselves are shown by views.dossier_page (backoffice/_group_parts.html)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core.errors import DomainError, NotFound
from chinhquyenso.dossiers import interconnect, selectors


@require_POST
@officer_required
def retry_part(request, code, part_id):
    dossier = selectors.get_dossier(request.user, code)  # NotFound outside the officer's scope
    application = selectors.application_of(dossier)
    views = selectors.application_parts(application, request.user) if application else []
    found = next((v.part for v in views if v.part.pk == part_id), None)
    if found is None:
        raise NotFound()
    try:
        interconnect.retry_part(found, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Đã gửi lại phần hồ sơ “{found.dossier.procedure.name}”.")
    return redirect("backoffice:dossier", code=dossier.code)

"""Field surveys on a phone (/can-bo/sau-benh/dieu-tra/): the form, the officer's list, one survey.

The form works without JavaScript (a plain POST; the client id is a hidden field made here). With
JavaScript, pests/static/pests/survey.js keeps the form on the phone while it is filled and queues
a submission the network dropped, sending it again when the connection returns; it sends with the
header `X-CQS-Offline: 1` and gets JSON back ({"id", "url", "replayed"}, or the error's
{"detail", "field", "code"}). The server stores a form once per client id, so a resent form is
harmless."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from chinhquyenso.accounts.decorators import officer_required
from chinhquyenso.core import params
from chinhquyenso.core.errors import DomainError
from chinhquyenso.pests import access
from chinhquyenso.pests.models import Crop, Organism, OrganismKind
from chinhquyenso.pests.selectors import densities as selectors
from chinhquyenso.pests.services import surveys

PAGE = 50
OFFLINE_HEADER = "HTTP_X_CQS_OFFLINE"

surveyors = officer_required(
    allowed=access.can_survey, reason="Trang này dành cho cán bộ được giao điều tra sinh vật gây hại."
)
readers = officer_required(
    allowed=selectors.sees_surveillance,
    reason="Trang này dành cho cán bộ bảo vệ thực vật và cán bộ xã theo dõi sinh vật gây hại.",
)


def _crop(code: str) -> Crop | None:
    crops = Crop.objects.all()
    return crops.filter(code=code).first() if code else crops.first()


def organisms_for(crop: Crop | None) -> tuple[list[Organism], list[Organism]]:
    """(the crop's pests and diseases, the natural enemies) of the catalog, in the form's order."""
    enemies = list(Organism.objects.filter(active=True, is_natural_enemy=True).order_by("name"))
    if crop is None:
        return [], enemies
    pests = list(crop.organisms.filter(active=True, is_natural_enemy=False).order_by("kind", "name").distinct())
    return pests, enemies


def _errors(error: DomainError) -> dict[str, str]:
    return {error.field or "form": error.message}


def _context(request, crop: Crop | None, values: dict, errors: dict) -> dict:
    pests, enemies = organisms_for(crop)
    observed = {row["organism"]: row for row in values.get("observations", [])}

    def rows(organisms):
        out = []
        for o in organisms:
            row = observed.get(o.code, {})
            prefix = f"observations.{o.code}"
            out.append(
                {
                    "organism": o,
                    "density": row.get("density_per_m2", ""),
                    "infestation": row.get("infestation_pct", ""),
                    "stage": row.get("stage_of_pest", ""),
                    "error": errors.get(f"{prefix}.density_per_m2")
                    or errors.get(f"{prefix}.infestation_pct")
                    or errors.get(prefix),
                    "disease": o.kind == OrganismKind.DISEASE,
                }
            )
        return out

    return {
        "crops": Crop.objects.all(),
        "crop": crop,
        "stages": crop.stages if crop else [],
        "communes": selectors.communes_for(request.user),
        "points": selectors.survey_points(request.user),
        "pests": rows(pests),
        "enemies": rows(enemies),
        "values": values,
        "errors": errors,
        "today": timezone.localdate(),
    }


@surveyors
def new(request):
    """The survey form (GET) and its submission (POST)."""
    if request.method != "POST":
        crop = _crop(request.GET.get("cay", "")[:30])
        values = {
            "client_id": str(uuid.uuid4()),
            "surveyed_on": timezone.localdate().isoformat(),
            "crop": crop.code if crop else "",
            "observations": [],
        }
        return render(request, "pests/surveys/form.html", _context(request, crop, values, {}))
    offline = request.META.get(OFFLINE_HEADER) == "1"
    crop = _crop(request.POST.get("crop", "")[:30])
    pests, enemies = organisms_for(crop)
    data = surveys.form_data(request.POST, pests + enemies)
    try:
        survey = surveys.submit(actor=request.user, data=data)
    except DomainError as error:
        if offline:
            return JsonResponse(error.as_dict(), status=error.status_code)
        return render(request, "pests/surveys/form.html", _context(request, crop, data, _errors(error)), status=400)
    url = reverse("pests:survey", args=[survey.pk])
    replayed = bool(getattr(survey, "replayed", False))
    if offline:
        return JsonResponse({"id": survey.pk, "url": url, "replayed": replayed}, status=200 if replayed else 201)
    messages.success(
        request, "Phiếu này đã được gửi trước đó; không lưu thêm." if replayed else "Đã gửi phiếu điều tra."
    )
    return redirect(url)


@readers
def index(request):
    offset = params.offset(request.GET.get("tu"), "tu")
    rows = list(selectors.visible_surveys(request.user).order_by("-surveyed_on", "-id")[offset : offset + PAGE + 1])
    return render(
        request,
        "pests/surveys/list.html",
        {
            "surveys": rows[:PAGE],
            "next_offset": offset + PAGE if len(rows) > PAGE else None,
            "prev_offset": max(0, offset - PAGE) if offset else None,
            "may_survey": access.can_survey(request.user),
        },
    )


@readers
def detail(request, pk: int):
    survey = selectors.get_survey(request.user, pk)
    stage = next((s.get("name") for s in survey.crop.stages if s.get("code") == survey.stage), survey.stage)
    return render(request, "pests/surveys/detail.html", {"survey": survey, "stage": stage})


officer_urls = [
    path("dieu-tra/", index, name="surveys"),
    path("dieu-tra/moi/", new, name="survey_new"),
    path("dieu-tra/<int:pk>/", detail, name="survey"),
]
public_urls: list = []

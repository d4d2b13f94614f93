from django.conf import settings
from django.shortcuts import render

from chinhquyenso.procedures.selectors import search_procedures


def catalog(request):
    q = request.GET.get("q", "")[:200]
    return render(request, "procedures/catalog.html", {
        "q": q, "procedures": list(search_procedures(q, limit=50)), "province_name": settings.CQS["PROVINCE_NAME"]})

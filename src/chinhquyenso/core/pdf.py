"""Official documents as PDF, and the way they write dates.

Every printed document (one-stop forms, extract copies, official reports) is
a Django template rendered by WeasyPrint (HTML + CSS paged media) here, the
one place WeasyPrint is set up. Templates ask for "Times New Roman", which
fontconfig maps to Liberation Serif (Debian package fonts-liberation2, same
metrics); no template may load anything from outside.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.template.loader import render_to_string

from chinhquyenso.core.calendar import LOCAL_TZ, local_date
from chinhquyenso.core.errors import DomainError

PDF_UNAVAILABLE = (
    "Máy chủ chưa in được PDF: thiếu thư viện Pango hoặc phông chữ. "
    "Hãy cài các gói libpango-1.0-0 và fonts-liberation2 (apt-get install libpango-1.0-0 fonts-liberation2)."
)


# ---------------------------------------------------------------- formatting


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(LOCAL_TZ)


def date_text(moment: dt.datetime | dt.date | None) -> str:
    """dd/mm/yyyy in Vietnam's time zone; '' for None."""
    if moment is None:
        return ""
    day = local_date(moment) if isinstance(moment, dt.datetime) else moment
    return day.strftime("%d/%m/%Y")


def time_text(moment: dt.datetime | None) -> str:
    """'09 giờ 30 phút, ngày 20/01/2025'; '' for None."""
    if moment is None:
        return ""
    local = _local(moment)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def place_date(moment: dt.datetime | dt.date) -> str:
    """'An Giang, ngày 20 tháng 01 năm 2025' (Nghị định 30/2020: pad days below 10 and months 1, 2)."""
    day = local_date(moment) if isinstance(moment, dt.datetime) else moment
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{settings.CQS['PROVINCE_NAME']}, ngày {day.day:02d} tháng {month} năm {day.year}"


# ---------------------------------------------------------------- rendering


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"Mẫu in không được tải tài nguyên ngoài: {url}")


def render_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, context)
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:  # OSError: libpango missing
        raise DomainError(PDF_UNAVAILABLE, "form") from error
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()

"""Writes for indicators: keeping dossier facts current, formula versions,
reported values."""

from chinhquyenso.indicators.models import StaleDossier


def mark_dossier_changed(event) -> None:
    """Subscriber of dossier events: the dossier's facts are re-aggregated
    before the next read (selectors refresh stale dossiers first)."""
    StaleDossier.objects.create(dossier_id=event.payload["dossier"])


def record_reported_value(*, indicator, agency, period_start, period_end, value=None, numerator=None,
                          denominator=None, source: str = "", actor=None, at=None):
    """Store (or replace) an approved reported value. LRIS calls this when the
    province approves a submission; ratios must carry numerator and denominator."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from chinhquyenso.core import audit
    from chinhquyenso.core.errors import DomainError
    from chinhquyenso.indicators.models import ReportedValue

    if indicator.is_ratio:
        if numerator is None or denominator is None:
            raise DomainError(f"Chỉ tiêu {indicator.name}: phải có tử số và mẫu số.", field=indicator.code)
        if Decimal(denominator) == 0:
            raise DomainError(f"Chỉ tiêu {indicator.name}: mẫu số phải khác 0.", field=indicator.code)
        value = Decimal(numerator) * 100 / Decimal(denominator)
    elif value is None:
        raise DomainError(f"Chỉ tiêu {indicator.name}: chưa có giá trị.", field=indicator.code)
    with transaction.atomic():
        row, created = ReportedValue.objects.update_or_create(
            indicator=indicator, agency=agency, period_start=period_start, period_end=period_end,
            defaults={"value": value, "numerator": numerator, "denominator": denominator, "source": source,
                      "approved_at": at or timezone.now(), "approved_by": actor})
        audit.record(actor=actor, action="indicators.reported_value." + ("create" if created else "update"), obj=row,
                     agency_id=agency.pk, after={"indicator": indicator.code, "value": str(value),
                                                  "numerator": str(numerator), "denominator": str(denominator)})
    return row

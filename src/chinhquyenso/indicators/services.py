"""Writes for indicators: keeping dossier facts current, formula versions,
reported values."""

from chinhquyenso.indicators.models import StaleDossier


def mark_dossier_changed(event) -> None:
    """Subscriber of dossier events: the dossier's facts are re-aggregated
    before the next read (selectors refresh stale dossiers first)."""
    StaleDossier.objects.get_or_create(dossier_id=event.payload["dossier"])

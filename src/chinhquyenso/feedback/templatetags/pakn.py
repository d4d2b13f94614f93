"""Display helpers for the feedback (phản ánh, kiến nghị) pages."""

from django import template

from chinhquyenso.feedback.selectors import area_label, status_group

register = template.Library()

# Badge classes of the shared stylesheet: green done, amber being handled, grey not handled.
_BADGE = {"open": "due_soon", "done": "in_time", "other": "waiting"}


@register.filter
def status_class(status: str) -> str:
    return _BADGE[status_group(status)]


@register.filter
def place(agency) -> str:
    """ "UBND xã Kiến An" → "xã Kiến An": where it happened, not who governs it."""
    return area_label(agency.name) if agency else ""

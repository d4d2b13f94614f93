"""Vietnamese display formats: dates dd/mm/yyyy, numbers 1.234.567, ratios 41,5%."""

import datetime as dt

from django import template
from django.utils import timezone

from chinhquyenso.core.text import format_number

register = template.Library()


@register.filter
def vndate(value) -> str:
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return value.strftime("%d/%m/%Y")


@register.filter
def vndatetime(value) -> str:
    if not value:
        return ""
    return timezone.localtime(value).strftime("%H:%M %d/%m/%Y")


@register.filter
def vnnum(value, decimals: int = 0) -> str:
    """513808 → 513.808; with decimals, 72.5 → 72,50."""
    return format_number(value or 0, int(decimals))


@register.filter
def filesize(value: int) -> str:
    if value < 1024 * 1024:
        return f"{format_number(max(1, round(value / 1024)))} KB"
    return f"{format_number(value / (1024 * 1024), 1)} MB"

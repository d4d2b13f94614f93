"""`cqs bus replay` (placeholder until its owner fills it in)."""

from django.core.management.base import CommandError


def add(actions) -> None:
    actions.add_parser("replay", help="(đang xây dựng)")


def run(command, options) -> None:
    raise CommandError("Chưa cài đặt.")

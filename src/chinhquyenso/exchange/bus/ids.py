"""Bus identifiers (X-Road style): member `<instance>/<class>/<code>`, subsystem
`<member>/<code>`, service `<subsystem>/<code>`. Codes are one path segment each."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,79}$")


def instance() -> str:
    """This installation's bus instance (CQS_BUS_INSTANCE, "VN": the national federation)."""
    return settings.CQS.get("BUS_INSTANCE", "VN")


def valid_segment(text: str) -> bool:
    return bool(_SEGMENT.match(text or ""))


@dataclass(frozen=True)
class SubsystemId:
    instance: str
    member_class: str
    member: str
    subsystem: str

    def __str__(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member}/{self.subsystem}"


@dataclass(frozen=True)
class ServiceId:
    provider: SubsystemId
    service: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.service}"


def parse_subsystem(text: str) -> SubsystemId | None:
    """`VN/GOV/000.00.00.H01/mot-cua` → SubsystemId; None when malformed."""
    parts = (text or "").strip().split("/")
    if len(parts) != 4 or not all(valid_segment(p) for p in parts):
        return None
    return SubsystemId(*parts)


def parse_service(text: str) -> ServiceId | None:
    """`VN/GOV/000.00.00.G12/cu-tru/residence` → ServiceId; None when malformed."""
    parts = (text or "").strip().split("/")
    if len(parts) != 5 or not all(valid_segment(p) for p in parts):
        return None
    return ServiceId(SubsystemId(*parts[:4]), parts[4])

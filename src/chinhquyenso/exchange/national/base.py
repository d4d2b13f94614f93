"""Interfaces to national systems the province links to.

Each has a real HTTP adapter (for production, configured by base URL) and a
local simulator (for tests and the demo). See docs/national-systems.md."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Protocol

from chinhquyenso.core.text import fold


class NationalSystemError(Exception):
    """The national system could not answer; `message` is Vietnamese, for the officer."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(frozen=True)
class Person:
    identity_number: str
    full_name: str
    birth_date: dt.date | None = None
    gender: str = ""
    address: str = ""

    def matches_name(self, name: str) -> bool:
        return fold(self.full_name) == fold(name)


class PopulationRegistry(Protocol):
    """Cơ sở dữ liệu quốc gia về dân cư (Đề án 06)."""

    def lookup(self, identity_number: str) -> Person | None:
        """The person with this citizen ID, None if unknown; raises NationalSystemError when unreachable."""


class NationalPortal(Protocol):
    """Cổng Dịch vụ công quốc gia: catalog and dossier-status synchronization."""

    def fetch_catalog(self) -> list[dict]: ...

    def push_dossier_status(self, *, dossier_code: str, status: str, at: dt.datetime, agency_code: str) -> None: ...


@dataclasses.dataclass(frozen=True)
class PaymentIntent:
    transaction_ref: str
    amount: int
    pay_url: str = ""


class PaymentGateway(Protocol):
    """Nền tảng thanh toán trực tuyến (PayGov)."""

    def create_payment(self, *, order_ref: str, amount: int, description: str) -> PaymentIntent: ...

    def payment_status(self, transaction_ref: str) -> str:
        """'paid', 'pending' or 'failed'."""

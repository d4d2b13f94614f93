"""Interfaces to national systems the province links to.

Each has an adapter over the data bus (exchange.national.http: production and the demo, the
provider's address in the bus registry's address setting) and an in-process stand-in
(exchange.national.simulators: a test convenience). See docs/national-systems.md."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import unicodedata
from typing import Protocol

from chinhquyenso.core.text import nfc

# Combining tone marks: huyền, sắc, ngã, hỏi, nặng.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def name_key(name: str) -> str:
    """Comparison key for a person's name: case, spacing, NFC/NFD and old/new
    tone placement ("Hoà" = "hòa") do not matter; diacritics do ("Hoa" is
    another name), because a match here claims the identity is verified."""
    words = []
    for word in unicodedata.normalize("NFD", nfc(name).lower()).split(" "):
        tones = "".join(sorted(c for c in word if c in _TONES))
        words.append(unicodedata.normalize("NFC", "".join(c for c in word if c not in _TONES)) + tones)
    return " ".join(words)


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
        return bool(nfc(name)) and name_key(self.full_name) == name_key(name)


class PopulationRegistry(Protocol):
    """Cơ sở dữ liệu quốc gia về dân cư (Đề án 06)."""

    def lookup(self, identity_number: str) -> Person | None:
        """The person with this citizen ID, None if unknown; raises NationalSystemError when unreachable."""


class NationalPortal(Protocol):
    """Cổng Dịch vụ công quốc gia: catalog and dossier-status synchronization."""

    def fetch_catalog(self) -> list[dict]: ...

    def push_dossier_status(self, *, dossier_code: str, status: str, at: dt.datetime, agency_code: str) -> None: ...


PAYMENT_STATUSES = ("paid", "pending", "failed", "cancelled", "expired")
# Statuses after which the platform never changes a payment again (except a late "paid", see payments.services).
FINAL_PAYMENT_STATUSES = ("paid", "failed", "cancelled", "expired")
SIGNATURE_HEADER = "X-Payment-Signature"


@dataclasses.dataclass(frozen=True)
class PaymentIntent:
    transaction_ref: str
    amount: int
    pay_url: str = ""
    qr_payload: str = ""  # the text a VietQR-style code carries; "" when the platform gives none


@dataclasses.dataclass(frozen=True)
class PaymentInfo:
    """What the platform says about one payment when asked (never what a browser redirect says)."""

    transaction_ref: str
    status: str
    amount: int | None = None  # None when the platform's answer does not say
    order_ref: str = ""
    paid_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class StatementLine:
    """One line of the platform's daily statement (sao kê) for reconciliation."""

    transaction_ref: str
    order_ref: str
    amount: int
    status: str
    paid_at: dt.datetime | None = None


class PaymentGateway(Protocol):
    """Nền tảng thanh toán trực tuyến (PayGov)."""

    def create_payment(
        self, *, order_ref: str, amount: int, description: str, return_url: str = "", callback_url: str = ""
    ) -> PaymentIntent: ...

    def payment_status(self, transaction_ref: str) -> str:
        """One of PAYMENT_STATUSES."""

    def payment_info(self, transaction_ref: str) -> PaymentInfo: ...

    def statement(self, day: dt.date) -> list[StatementLine]:
        """The payments the platform settled on `day` (Vietnam's calendar day)."""


def payment_signature(body: bytes, secret: str) -> str:
    """The signature of a server-to-server payment callback: HMAC-SHA256 of the raw body with the
    merchant secret, as "sha256=<hex>" in the SIGNATURE_HEADER header."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payment_signature_valid(body: bytes, signature: str, secret: str) -> bool:
    if not secret or not signature:
        return False
    return hmac.compare_digest(payment_signature(body, secret), signature.strip())

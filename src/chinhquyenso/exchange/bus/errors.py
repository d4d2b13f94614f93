"""What the bus answers when a call does not get through (docs/data-bus.md, "Errors")."""

from __future__ import annotations

from chinhquyenso.exchange.national.base import NationalSystemError

# code → (HTTP status the bus answers an outside client with, permanent?)
# A permanent error gets the same answer if sent again: the outbox makes it a dead letter at once.
ERRORS = {
    "bad_request": (400, True),
    "unauthenticated": (401, True),
    "access_denied": (403, True),
    "unknown_service": (404, True),
    "unknown_operation": (404, True),
    "replayed": (409, True),
    "body_too_large": (413, True),
    "invalid_body": (422, True),
    "circuit_open": (503, False),
    "timeout": (504, False),
    "unreachable": (502, False),
    "remote_error": (502, False),
}


class BusError(NationalSystemError):
    """A call refused by the bus or not answered by the provider. `message` is Vietnamese, for the
    officer or the client's operator; `code` one of ERRORS; `entry` the message-log entry's seq."""

    def __init__(self, code: str, message: str, *, field: str = "", entry: int | None = None, retry_after=None):
        super().__init__(message)
        if code not in ERRORS:
            raise ValueError(f"unknown bus error code {code!r}")
        self.code = code
        self.field = field
        self.entry = entry
        self.retry_after = retry_after  # datetime: when an open circuit lets a call through again

    @property
    def status(self) -> int:
        return ERRORS[self.code][0]

    @property
    def permanent(self) -> bool:
        return ERRORS[self.code][1]

    def body(self) -> dict:
        """The JSON error body the bus answers with (same shape as the API's: detail, field, code)."""
        return {"detail": self.message, "field": self.field, "code": self.code, "log_entry": self.entry}

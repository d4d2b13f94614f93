"""How much one caller may ask of the server per minute, for the pages and APIs anyone may use
(the assistant's questions, checking a signed PDF, looking up an authenticity code).

Counted in Django's cache under a keyed hash of the caller (never the address itself): with Redis
(REDIS_URL) every process shares the count; the default local-memory cache counts per process, which
still bounds one process's work. Each limit is a `PerMinute` whose number lives in CQS[setting]."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from chinhquyenso.core.errors import DomainError


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, message: str, field: str, retry_after: int):
        super().__init__(message, field)
        self.code = "rate_limited"
        self.retry_after = retry_after


def clock() -> float:
    """The time the minutes are counted in (a test holds it inside one minute)."""
    return time.time()


@dataclass(frozen=True)
class PerMinute:
    name: str  # the counter's namespace in the cache
    setting: str  # the CQS setting holding the limit
    default: int
    message: str  # Vietnamese, what a refused caller reads
    field: str

    def limit(self) -> int:
        return int((getattr(settings, "CQS", {}) or {}).get(self.setting, self.default))

    def _key(self, caller: str, now: float) -> str:
        digest = hmac.new(settings.SECRET_KEY.encode(), caller.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{self.name}:{digest}:{int(now // 60)}"

    def _refuse(self, now: float) -> RateLimited:
        return RateLimited(self.message, self.field, retry_after=60 - int(now % 60) or 1)

    def add(self, caller: str) -> int:
        """Count one more for `caller` this minute; the count so far."""
        key = self._key(caller, clock())
        cache.add(key, 0, timeout=120)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=120)
            return 1

    def check(self, caller: str) -> None:
        """Count one for `caller`; RateLimited (429) past the limit this minute."""
        now = clock()
        if self.add(caller) > self.limit():
            raise self._refuse(now)

    def refuse_if_spent(self, caller: str) -> None:
        """RateLimited when `caller` has used up this minute, without counting (a limit on failures only,
        counted by `add` after each one)."""
        now = clock()
        if int(cache.get(self._key(caller, now), 0)) >= self.limit():
            raise self._refuse(now)

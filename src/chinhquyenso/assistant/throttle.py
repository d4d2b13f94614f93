"""Questions per caller address per minute (the chat page and the API are open to anyone).

Counted in Django's cache under a keyed hash of the address (never the address itself): with
Redis (REDIS_URL) every process shares the count; the default local-memory cache counts per
process, which still bounds one process's work. The limit is CQS["ASSISTANT_PER_IP_PER_MINUTE"]
(default PER_MINUTE)."""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

from chinhquyenso.core.errors import DomainError

PER_MINUTE = 30


class TooManyQuestions(DomainError):
    status_code = 429

    def __init__(self, retry_after: int):
        super().__init__("Bạn đã hỏi quá nhiều câu trong một phút; vui lòng chờ một chút rồi hỏi lại.", "question")
        self.code = "rate_limited"
        self.retry_after = retry_after


def limit() -> int:
    return int((getattr(settings, "CQS", {}) or {}).get("ASSISTANT_PER_IP_PER_MINUTE", PER_MINUTE))


def clock() -> float:
    """The time the minutes are counted in (a test holds it inside one minute)."""
    return time.time()


def check(address: str) -> None:
    """Count one question from `address`; TooManyQuestions (429) past the limit this minute."""
    now = clock()
    minute = int(now // 60)
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
    key = f"assistant:ask:{digest}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    if count > limit():
        raise TooManyQuestions(retry_after=60 - int(now % 60) or 1)

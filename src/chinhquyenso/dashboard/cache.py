"""The dashboard's figure cache: computed figures kept in this process for
CACHE_SECONDS, refreshed stale-while-revalidate (docs/dashboard.md, "Caching").

The figures themselves stay in this process: unpickling a computation of
~150 agencies from Django's cache costs more than rendering the page. The
cache holds only a token per key: the figures are valid while it lives, so
CACHE_SECONDS, cache.clear() and several processes (Redis) all behave as
for cached values; each process computes at most once per token.

When the token has gone, the figures kept are served once more while a
thread computes the new ones (stale-while-revalidate): computing a period
over a million dossiers takes about a second, which no leader should wait
for every minute. Figures older than STALE_SERVED_FOR (a process that sat
idle) are computed while the request waits.

A refresh thread shares the interpreter with the request that found the
figures stale and would slow it down (about twice as long), so during a
request it starts when the response has been sent: DashboardConfig.ready()
connects request_started and request_finished below to Django's signals."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connections

logger = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_SECONDS = 60
STALE_SERVED_FOR = 10 * CACHE_SECONDS
_FIGURES_KEPT = 256  # bound the process's memory whatever the number of agencies viewed


@dataclass
class _Kept:
    token: str
    value: object
    at: float  # time.monotonic() when computed


_figures: dict[str, _Kept] = {}
_refreshing: set[str] = set()
_refreshing_lock = threading.Lock()
_request = threading.local()


def cached(parts: tuple, build: Callable[[], T]) -> T:
    """The figures for `parts` (any repr-able key), from `build()` when none
    are kept or they have expired (see the module's docstring)."""
    key = "dashboard:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    token = cache.get(key)
    kept = _figures.get(key)
    if kept is not None and kept.token == token:
        return kept.value
    if (
        kept is not None
        and settings.CQS["DASHBOARD_BACKGROUND_REFRESH"]
        and time.monotonic() - kept.at < STALE_SERVED_FOR
    ):
        _refresh_in_background(key, build)
        return kept.value
    value = build()
    _keep(key, value)
    return value


def _keep(key: str, value) -> None:
    token = cache.get(key)
    if token is None:
        token = uuid.uuid4().hex
        cache.set(key, token, CACHE_SECONDS)
    if len(_figures) >= _FIGURES_KEPT:
        _figures.clear()
    _figures[key] = _Kept(token, value, time.monotonic())


def request_started(**kwargs) -> None:
    """Django's request_started: refreshes found stale from now on wait for the response."""
    _request.pending = []


def request_finished(**kwargs) -> None:
    """Django's request_finished: start the refreshes the request found stale."""
    pending, _request.pending = getattr(_request, "pending", None) or [], None
    for thread in pending:
        thread.start()


def _refresh_in_background(key: str, build) -> None:
    with _refreshing_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def run():
        try:
            _keep(key, build())
        except Exception:  # the stale figures stay; the next request tries again
            logger.exception("Không tính lại được số liệu Điều hành")
        finally:
            _refreshing.discard(key)
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=run, name="dashboard-refresh", daemon=True)
    pending = getattr(_request, "pending", None)
    if pending is None:
        thread.start()
    else:
        pending.append(thread)

"""The dashboard's figure cache: a minute's token, figures kept in the
process, and past the minute the old figures served while a thread
computes new ones — so no leader waits for a computation over a million
dossiers, and figures are never older than the minute plus one
computation (or computed while waiting, after a long idle spell)."""

import threading
import time

import pytest
from django.core.cache import cache
from django.core.cache.backends import locmem

from chinhquyenso.dashboard import cache as figures


class Build:
    """A computation whose result and finishing the test controls."""

    def __init__(self):
        self.calls = 0
        self.release = threading.Event()
        self.release.set()
        self.fail = False

    def __call__(self):
        self.calls += 1
        self.release.wait(5)
        if self.fail:
            raise RuntimeError("cơ sở dữ liệu không trả lời")
        return f"số liệu lần {self.calls}"


@pytest.fixture
def background(settings, monkeypatch):
    settings.CQS = {**settings.CQS, "DASHBOARD_BACKGROUND_REFRESH": True}
    cache.clear()
    figures._figures.clear()
    now = [time.time()]
    monkeypatch.setattr(locmem.time, "time", lambda: now[0])
    yield now
    figures._figures.clear()
    figures._request.pending = None


def wait_for_refresh():
    for thread in threading.enumerate():
        if thread.name == "dashboard-refresh":
            thread.join(5)


def test_within_the_minute_figures_are_computed_once(background):
    build = Build()
    assert figures.cached(("t", 1), build) == "số liệu lần 1"
    assert figures.cached(("t", 1), build) == "số liệu lần 1"
    assert figures.cached(("t", 2), build) == "số liệu lần 2"  # another period, its own figures
    assert build.calls == 2


def test_past_the_minute_the_old_figures_are_served_while_new_ones_are_computed(background):
    build = Build()
    figures.cached(("t",), build)
    background[0] += figures.CACHE_SECONDS + 1
    build.release.clear()  # the new computation takes its time …
    assert figures.cached(("t",), build) == "số liệu lần 1"  # … the request does not wait for it
    assert figures.cached(("t",), build) == "số liệu lần 1"  # nor does the next one start another
    build.release.set()
    wait_for_refresh()
    assert build.calls == 2
    assert figures.cached(("t",), build) == "số liệu lần 2"
    assert build.calls == 2


def test_a_failed_refresh_keeps_the_old_figures_and_the_next_request_tries_again(background, caplog):
    build = Build()
    figures.cached(("t",), build)
    background[0] += figures.CACHE_SECONDS + 1
    build.fail = True
    assert figures.cached(("t",), build) == "số liệu lần 1"
    wait_for_refresh()
    assert "Không tính lại được số liệu Điều hành" in caplog.text
    build.fail = False
    assert figures.cached(("t",), build) == "số liệu lần 1"
    wait_for_refresh()
    assert figures.cached(("t",), build) == "số liệu lần 3"


def test_figures_from_a_long_idle_spell_are_computed_while_the_request_waits(background, monkeypatch):
    build = Build()
    figures.cached(("t",), build)
    later = time.monotonic() + figures.STALE_SERVED_FOR + 1
    monkeypatch.setattr(figures.time, "monotonic", lambda: later)
    background[0] += figures.STALE_SERVED_FOR + 1
    assert figures.cached(("t",), build) == "số liệu lần 2"


def test_during_a_request_the_refresh_starts_once_the_response_is_sent(background):
    build = Build()
    figures.cached(("t",), build)
    background[0] += figures.CACHE_SECONDS + 1
    figures.request_started()  # what Django's request_started signal calls
    assert figures.cached(("t",), build) == "số liệu lần 1"
    wait_for_refresh()
    assert build.calls == 1  # not while the page is being made …
    figures.request_finished()
    wait_for_refresh()
    assert build.calls == 2  # … but as soon as it is sent
    assert figures.cached(("t",), build) == "số liệu lần 2"


def test_clearing_the_cache_refreshes_the_figures(background):
    build = Build()
    figures.cached(("t",), build)
    cache.clear()
    figures.cached(("t",), build)
    wait_for_refresh()
    assert figures.cached(("t",), build) == "số liệu lần 2"

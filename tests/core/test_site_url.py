"""CQS_SITE_URL: every link in an e-mail or SMS is built on it, so a production
process refuses to start without it and `cqs check --deploy` reports it."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from chinhquyenso.core.checks import require_ready, site_url
from chinhquyenso.exchange.outbox import absolute_url


@pytest.mark.parametrize("value", ["", "dvc.example.gov.vn", "ftp://dvc.example.gov.vn", "https://", "https://x.vn/a/"])
def test_a_missing_or_partial_site_url_is_an_error(settings, monkeypatch, value):
    monkeypatch.setitem(settings.CQS, "SITE_URL", value)
    assert [e.id for e in site_url()] == ["cqs.E001"]
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="cqs.E001"):
        require_ready()
    with pytest.raises(SystemCheckError, match="cqs.E001"):
        call_command("check", deploy=True, fail_level="ERROR")


def test_development_starts_without_it_and_plain_http_is_a_warning(settings, monkeypatch):
    monkeypatch.setitem(settings.CQS, "SITE_URL", "")
    settings.DEBUG = True
    require_ready()
    monkeypatch.setitem(settings.CQS, "SITE_URL", "http://10.0.0.5:8000")
    assert [e.id for e in site_url()] == ["cqs.W001"]


def test_links_are_built_on_it(settings, monkeypatch):
    monkeypatch.setitem(settings.CQS, "SITE_URL", "https://dichvucong.example.gov.vn/")
    assert site_url() == []
    assert absolute_url("/can-bo/ho-so/X/") == "https://dichvucong.example.gov.vn/can-bo/ho-so/X/"

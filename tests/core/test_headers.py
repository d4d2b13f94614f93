"""Every page carries the Content-Security-Policy; nothing dynamic is kept by a cache unless its view says so."""

import pytest
from django.test import Client

from chinhquyenso.core.headers import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


def test_pages_carry_the_policy_and_are_not_stored(birth_procedure, citizen):
    client = Client()
    client.force_login(citizen)
    for url in ("/", "/phan-anh/gui/", "/dang-nhap/", "/khong-co-trang-nay/"):
        response = client.get(url)
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert response["Cache-Control"] == "no-store", url
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


def test_api_answers_with_personal_data_are_not_stored(birth_procedure, citizen):
    client = Client()
    client.force_login(citizen)
    response = client.get("/api/auth/me")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in response  # JSON runs no script: the policy is for pages


def test_a_view_that_sets_its_own_caching_keeps_it(db):
    response = Client().get("/healthz")
    assert "no-cache" in response["Cache-Control"]  # never_cache: its own words, not overwritten

"""A database that cannot be reached: 503 with Retry-After in every format
(never a 500), and the probes a supervisor and a load balancer read."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    monkeypatch.setattr(CursorWrapper, "executemany", refuse)


def test_probes_when_everything_answers():
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "storage": "ok", "queue": "ok"}


def test_readiness_names_the_database_when_it_is_down(database_down):
    client = Client()
    assert client.get("/healthz").status_code == 200  # alive: the process itself is fine
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer["Retry-After"] == "30"
    assert answer.json()["database"] == "unavailable" and "127.0.0.1" not in answer.content.decode()


@pytest.mark.parametrize(
    "path, content_type, expected",
    [
        ("/thu-tuc/", "text/html", "Hệ thống tạm thời gián đoạn"),
        ("/api/procedures", "application/json", '"code": "unavailable"'),
        ("/open311/v2/services.json", "application/json", '"code": 503'),
        ("/open311/v2/services.xml", "text/xml", "<code>503</code>"),
    ],
)
def test_every_kind_of_request_gets_a_503_in_its_own_format(database_down, path, content_type, expected):
    answer = Client(raise_request_exception=False).get(path)
    assert answer.status_code == 503, answer.content[:300]
    assert answer["Retry-After"] == "30" and answer["Content-Type"].startswith(content_type)
    body = answer.content.decode()
    assert expected in body.replace('":', '": ').replace(":  ", ": ")
    assert "Connection refused" not in body

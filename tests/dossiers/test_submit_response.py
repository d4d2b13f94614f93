"""A fresh submission's answer is built from the objects the service already holds, not read back."""

import json

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db
BODY = {
    "procedure_code": "1.001193",
    "channel": "online",
    "agency_code": "xa-kien-an",
    "components": [{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
}


def test_submit_answers_what_a_later_lookup_shows_in_few_statements(birth_procedure, citizen):
    client = Client()
    client.force_login(citizen)
    statements = []
    # An execute wrapper, not CaptureQueriesContext: a request's start resets the query log.
    with connection.execute_wrapper(lambda execute, sql, *args: statements.append(sql) or execute(sql, *args)):
        response = client.post(
            "/api/dossiers", json.dumps(BODY), content_type="application/json", headers={"Idempotency-Key": "k-1"}
        )
    assert response.status_code == 201, response.content
    looked_up = client.get(f"/api/dossiers/{response.json()['code']}")
    assert response.json() == looked_up.json()
    # Session and user, the idempotency record, procedure and agency, the code counter, the dossier
    # and its components, timeline, audit head and record, domain event: 30. Reading the new
    # dossier back through the scoped selector was one statement more. And one for the population
    # registry's simulator, which reads the installation's communes to give the person an address
    # (the real registry answers over HTTP).
    assert len(statements) <= 31, "\n".join(s[:120] for s in statements)

    replay = client.post(
        "/api/dossiers", json.dumps(BODY), content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    assert replay.status_code == 200 and replay.json() == looked_up.json()

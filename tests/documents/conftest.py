"""Shared by the documents tests (docs-core, docs-incoming, docs-views): the shipped reference data
(document types, the default approval flow) is there in every test that uses the database — a
transactional test's flush empties the tables the first migration filled."""

import pytest


@pytest.fixture(autouse=True)
def documents_reference_data(request):
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if uses_db:
        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
        from chinhquyenso.documents.reference import load_reference_data

        load_reference_data()

"""The full catalog for the assistant's quality tests: the demo province's agencies and
procedures, the national list, the default synonyms and the FAQ entries (tests/assistant/quality.py
`load_catalog`), written once per module inside a transaction rolled back at the end."""

import pytest
from django.db import transaction
from django.test import override_settings

from chinhquyenso.assistant import index
from tests.assistant import quality


@pytest.fixture(scope="module")
def full_catalog(django_db_setup, django_db_blocker, tmp_path_factory):
    test_settings = override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("files"), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), test_settings:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield quality.load_catalog()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            index.invalidate()

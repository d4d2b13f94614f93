import pytest

from chinhquyenso.indicators.services import load_registry


@pytest.fixture
def registry(db, admin_user):
    load_registry(actor=admin_user)

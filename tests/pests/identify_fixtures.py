"""Fixtures of the identification tests (imported by tests/pests/test_identify_*.py): the tiny ONNX
model configured, and an expert (pests.confirm_identification)."""

from __future__ import annotations

import pytest

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import Role
from tests.pests.conftest import PASSWORD, grant_pests
from tests.pests.onnx_models import write_model


@pytest.fixture
def tiny_model(settings, tmp_path):
    """The tiny model configured (CQS_PESTS_MODEL_PATH / _CLASSES); returns its paths."""
    model, classes = write_model(tmp_path / "model")
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": str(model), "PESTS_MODEL_CLASSES": str(classes)}
    return model, classes


@pytest.fixture
def expert(pest_area, admin_user):
    """A specialist of the Chi cục Trồng trọt và BVTV with pests.confirm_identification."""
    user = accounts.create_officer(
        actor=admin_user,
        username="chuyengia.bvtv",
        password=PASSWORD,
        full_name="Phạm Văn Chuyên",
        memberships=[(pest_area.subdepartment, Role.SPECIALIST)],
    )
    return grant_pests(user, "confirm_identification")

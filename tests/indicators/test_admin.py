"""The province administrator edits formulas as new versions."""

import pytest
from django.test import Client

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.indicators.models import FormulaVersion, Indicator

pytestmark = pytest.mark.django_db


def test_admin_adds_a_formula_version_and_rejects_unknown_measures(registry, admin_user):
    client = Client()
    client.force_login(admin_user)
    indicator = Indicator.objects.get(code="online_rate_all")
    assert client.get("/quan-tri/indicators/indicator/").status_code == 200
    response = client.post(
        "/quan-tri/indicators/formulaversion/add/",
        {
            "indicator": indicator.pk,
            "valid_from": "2026-01-01",
            "numerator": "received_onlin",
            "denominator": "received",
            "scale": 100,
            "note": "",
        },
    )
    assert response.status_code == 200 and "không có đại lượng «received_onlin»" in response.content.decode()
    response = client.post(
        "/quan-tri/indicators/formulaversion/add/",
        {
            "indicator": indicator.pk,
            "valid_from": "2026-01-01",
            "numerator": "received_online + received_post",
            "denominator": "received",
            "scale": 100,
            "note": "Tính cả hồ sơ qua bưu chính",
        },
    )
    assert response.status_code == 302
    versions = list(FormulaVersion.objects.filter(indicator=indicator).values_list("version", "numerator"))
    assert versions == [(1, "received_online"), (2, "received_online + received_post")]
    assert AuditRecord.objects.filter(action="indicators.formula.add", after__version=2).exists()
    latest = FormulaVersion.objects.get(indicator=indicator, version=2)
    assert client.post(f"/quan-tri/indicators/formulaversion/{latest.pk}/change/", {}).status_code == 403

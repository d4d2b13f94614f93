import pytest

from chinhquyenso.reports import services
from chinhquyenso.reports.models import ReportTemplate


@pytest.fixture
def templates(quarter, admin_user, province):
    services.load_templates(actor=admin_user)
    ReportTemplate.objects.update(issuer=province["tu_phap"])  # the test province has no Sở KH&CN
    return {t.code: t for t in ReportTemplate.objects.all()}

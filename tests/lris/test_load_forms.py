"""load_forms: the two forms and their reported indicators from
lris/data/forms.json; idempotent; never takes over a computed indicator."""

from decimal import Decimal

import pytest

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.indicators.models import Indicator
from chinhquyenso.indicators.periods import quarter
from chinhquyenso.lris import services
from chinhquyenso.lris.models import FormItem, ReportForm
from chinhquyenso.lris.validation import Entry, ValuesInvalid

pytestmark = pytest.mark.django_db

CODES = {
    "bts_positions",
    "mobile_subscribers",
    "fixed_broadband_subscribers",
    "smartphone_adult_rate",
    "ipv6_systems_rate",
    "security_level_approved_rate",
    "doc_exchange_electronic_rate",
    "has_signature_certificate",
    "it_staff",
    "trainings_held",
    "community_tech_teams",
    "community_tech_members",
    "eid_activated",
}


def test_forms_file_loads_once(admin_user):
    first = services.load_forms(actor=admin_user)
    assert CODES <= set(first.indicators_created)
    assert set(first.forms_created) == {"ha-tang-so-attt", "chinh-quyen-dien-tu", "chi-so-phuc-vu-766"}
    assert Indicator.objects.filter(code__in=CODES).exclude(source=Indicator.Source.REPORTED).count() == 0
    ratio = Indicator.objects.get(code="smartphone_adult_rate")
    assert ratio.value_type == "ratio" and ratio.denominator_label == "Dân số trưởng thành"
    assert Indicator.objects.get(code="it_staff_dedicated").part_of.code == "it_staff"
    quarterly = ReportForm.objects.get(code="ha-tang-so-attt")
    assert quarterly.period_kind == "quarter" and quarterly.items.count() == 12
    assert ReportForm.objects.get(code="chinh-quyen-dien-tu").agency_kinds == [
        "department",
        "district_committee",
        "commune_committee",
    ]
    counts = (Indicator.objects.count(), ReportForm.objects.count(), FormItem.objects.count())
    second = services.load_forms(actor=admin_user)
    assert (second.indicators_created, second.forms_created) == ([], [])
    assert set(second.forms_kept) == {"ha-tang-so-attt", "chinh-quyen-dien-tu", "chi-so-phuc-vu-766"}
    assert (Indicator.objects.count(), ReportForm.objects.count(), FormItem.objects.count()) == counts
    assert AuditRecord.objects.filter(action="lris.forms.load").count() == 2


def test_a_code_of_a_computed_indicator_is_never_taken_over(admin_user):
    Indicator.objects.create(code="it_staff", name="Tính từ hệ thống", unit="người", source=Indicator.Source.COMPUTED)
    with pytest.raises(DomainError, match="it_staff"):
        services.load_forms(actor=admin_user)
    assert not ReportForm.objects.exists() and Indicator.objects.count() == 1


@pytest.mark.parametrize("registry_first", [True, False])
def test_forms_share_the_indicator_registry_whichever_loads_first(admin_user, registry_first):
    """doc_exchange_electronic_rate and has_signature_certificate feed the
    e-government completion criteria; the forms report into those very rows."""
    from chinhquyenso.indicators.services import load_registry

    if registry_first:
        load_registry(actor=admin_user)
    summary = services.load_forms(actor=admin_user)
    if not registry_first:
        load_registry(actor=admin_user)
    assert ("doc_exchange_electronic_rate" in summary.indicators_kept) is registry_first
    form = ReportForm.objects.get(code="chinh-quyen-dien-tu")
    doc = form.items.get(indicator__code="doc_exchange_electronic_rate").indicator
    assert doc.source == Indicator.Source.REPORTED and doc.is_ratio
    assert Indicator.objects.filter(code="doc_exchange_electronic_rate").count() == 1


def test_the_province_edits_survive_a_reload(admin_user):
    services.load_forms(actor=admin_user)
    Indicator.objects.filter(code="bts_positions").update(name="Số vị trí cột ăng-ten, nhà trạm BTS")
    FormItem.objects.filter(form__code="chinh-quyen-dien-tu", indicator__code="trainings_held").delete()
    services.load_forms(actor=admin_user)
    assert Indicator.objects.get(code="bts_positions").name == "Số vị trí cột ăng-ten, nhà trạm BTS"
    assert ReportForm.objects.get(code="chinh-quyen-dien-tu").items.count() == 4


def test_a_ratio_passes_100_percent_only_where_its_indicator_allows(admin_user, province, officers):
    """e-ID accounts activated against the target reached 109,85% (seed 001)."""
    services.load_forms(actor=admin_user)
    target = Indicator.objects.create(
        code="eid_activation_vs_target",
        name="Tỷ lệ kích hoạt định danh điện tử so với chỉ tiêu",
        unit="%",
        source=Indicator.Source.REPORTED,
        value_type="ratio",
        decimals=2,
        maximum=Decimal(300),
        numerator_label="Số tài khoản đã kích hoạt",
        denominator_label="Chỉ tiêu được giao",
    )
    form = ReportForm.objects.get(code="ha-tang-so-attt")
    FormItem.objects.create(form=form, indicator=target, order=99, required=False)
    assignment = services.assign_form(
        actor=admin_user,
        form=form,
        agencies=[province["tu_phap"]],
        period=quarter(2024, 3),
        deadline=quarter(2024, 3).end,
    ).created[0]
    officer = officers["tu_phap"]["specialist"]
    with pytest.raises(ValuesInvalid) as refused:
        services.save_values(
            actor=officer,
            assignment=assignment,
            entries=[
                Entry("eid_activation_vs_target", numerator="1.127.989", denominator="1.026.794"),
                Entry("ipv6_systems_rate", numerator="12", denominator="10"),
            ],
        )
    assert [e.code for e in refused.value.errors] == ["ipv6_systems_rate"]
    assert "không được lớn hơn mẫu số" in refused.value.errors[0].message
    submission = services.save_values(
        actor=officer,
        assignment=assignment,
        entries=[Entry("eid_activation_vs_target", numerator="1.127.989", denominator="1.026.794")],
    )
    value = submission.values.get()
    assert value.value == Decimal("109.8554") and value.raw == "1.127.989 / 1.026.794"


def test_assign_form_rules(admin_user, province, officers):
    services.load_forms(actor=admin_user)
    form = ReportForm.objects.get(code="ha-tang-so-attt")
    period = quarter(2025, 1)
    with pytest.raises(DomainError, match="Chỉ quản trị tỉnh"):
        services.assign_form(
            actor=officers["tu_phap"]["leader"],
            form=form,
            agencies=[province["tu_phap"]],
            period=period,
            deadline=period.end,
        )
    with pytest.raises(DomainError, match="Hạn nộp") as early:
        services.assign_form(
            actor=admin_user,
            form=form,
            agencies=[province["tu_phap"]],
            period=period,
            deadline=period.start.replace(year=2024),
        )
    assert early.value.field == "deadline"
    with pytest.raises(DomainError, match="ít nhất một cơ quan"):
        services.assign_form(actor=admin_user, form=form, agencies=[], period=period, deadline=period.end)
    first = services.assign_form(
        actor=admin_user, form=form, agencies=[province["tu_phap"]], period=period, deadline=period.end
    )
    again = services.assign_form(
        actor=admin_user,
        form=form,
        agencies=[province["tu_phap"], province["huyen"]],
        period=period,
        deadline=period.end,
    )
    assert len(first.created) == 1 and [a.agency.code for a in again.created] == ["ubnd-cho-moi"]
    assert again.existing == [province["tu_phap"]]

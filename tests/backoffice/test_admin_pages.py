"""The province administrator's pages (Django admin with Vietnamese labels)."""

import datetime as dt

import pytest
from django.test import Client

from chinhquyenso.core.calendar import WorkingCalendar
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.org.models import Agency, Reorganization
from chinhquyenso.procedures.selectors import search_procedures

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_province_administrators_open_the_admin(admin_user, officers, citizen):
    assert "Quản trị tỉnh" in signed_in(admin_user).get("/quan-tri/").content.decode()
    for user in (officers["xa_a"]["agency_admin"], citizen):
        assert signed_in(user).get("/quan-tri/")["Location"].startswith("/quan-tri/login/")
    assert signed_in(admin_user).get("/quan-tri/procedures/procedure/").status_code == 200
    assert "Thành phần hồ sơ" in signed_in(admin_user).get("/quan-tri/procedures/procedure/add/").content.decode()


def test_renaming_a_procedure_in_the_admin_keeps_search_working(admin_user, birth_procedure):
    client = signed_in(admin_user)
    url = f"/quan-tri/procedures/procedure/{birth_procedure.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, dict))}
    data.update({"name": "Đăng ký khai sinh lưu động", "levels": '["commune"]', "field": birth_procedure.field_id})
    inline_prefixes = [fs.formset.prefix for fs in client.get(url).context["inline_admin_formsets"]]
    for prefix in inline_prefixes:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert [p.code for p in search_procedures("khai sinh luu dong")] == ["1.001193"]
    assert AuditRecord.objects.filter(action="procedure.update", after__via="admin").exists()


def test_reorganization_form_goes_through_the_service(admin_user, province):
    client = signed_in(admin_user)
    page = client.get("/quan-tri/org/agency/sap-xep/")
    assert "Sắp xếp lại cơ quan" in page.content.decode()
    refused = client.post(
        "/quan-tri/org/agency/sap-xep/",
        {
            "kind": "merge",
            "sources": [province["xa_a"].pk],
            "name": "UBND xã Kiến An mới",
            "effective_date": "2025-07-01",
        },
    )
    assert "ít nhất hai" in refused.content.decode() or "đúng một" in refused.content.decode()
    done = client.post(
        "/quan-tri/org/agency/sap-xep/",
        {
            "kind": "merge",
            "sources": [province["xa_a"].pk, province["xa_b"].pk],
            "name": "UBND xã Kiến An",
            "new_kind": "commune_committee",
            "parent": province["huyen"].pk,
            "effective_date": "2025-07-01",
            "legal_basis": "Nghị quyết 1654/NQ-UBTVQH15",
        },
    )
    assert done.status_code == 302
    province["xa_a"].refresh_from_db()
    assert province["xa_a"].valid_to is not None
    assert Reorganization.objects.get().successions.count() == 2
    assert Agency.objects.current().filter(name="UBND xã Kiến An").count() == 1
    # History is read-only: no adding or editing reorganizations by hand.
    assert client.get("/quan-tri/org/reorganization/add/").status_code == 403


def test_calendar_make_up_day_from_the_admin(admin_user):
    saturday = dt.date(2025, 4, 26)
    assert not WorkingCalendar.load(saturday, saturday).is_working_day(saturday)
    response = signed_in(admin_user).post(
        "/quan-tri/core/calendarday/add/", {"date": "2025-04-26", "kind": "working", "note": "Làm bù ngày 02/5"}
    )
    assert response.status_code == 302
    assert WorkingCalendar.load(saturday, saturday).is_working_day(saturday)

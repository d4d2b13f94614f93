"""Officers' pages: counter reception, inbox, dossier page and actions,
always inside the officer's own agencies."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from chinhquyenso.core.calendar import calendar_for, closing_time, local_date
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, DossierComment, Status

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def counter_form(**extra):
    data = {
        "procedure_code": "1.001193",
        "identity_number": "089201001234",
        "full_name": "Trần Văn Bé",
        "phone": "0912345678",
        "address": "Ấp Long Hòa",
        "idempotency_key": "k-1",
        "agency_code": "xa-kien-an",
    }
    data.update(extra)
    return data


def test_counter_receives_and_accepts_in_one_post(birth_procedure, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    assert "Đăng ký khai sinh" in client.get("/can-bo/tiep-nhan/", {"q": "khai sinh"}).content.decode()
    form = client.get("/can-bo/tiep-nhan/", {"thu_tuc": "1.001193"}).content.decode()
    assert "Giấy chứng sinh" in form and "autofocus" in form
    response = client.post(
        "/can-bo/tiep-nhan/", counter_form(**{"received-1": "1", "received-2": "1", "decision": "accept"})
    )
    dossier = Dossier.objects.get()
    assert response["Location"] == f"/can-bo/ho-so/{dossier.code}/"
    assert dossier.status == Status.IN_PROCESS and dossier.channel == "counter" and dossier.due_at
    # The same form sent again (double click, reload) does not create a second dossier.
    again = client.post(
        "/can-bo/tiep-nhan/", counter_form(**{"received-1": "1", "received-2": "1", "decision": "accept"})
    )
    assert again["Location"] == response["Location"] and Dossier.objects.count() == 1


def test_counter_accept_with_missing_component_leaves_nothing_half_written(birth_procedure, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    page = client.post("/can-bo/tiep-nhan/", counter_form(**{"received-1": "1", "decision": "accept"}))
    html = page.content.decode()
    assert page.status_code == 200 and "Giấy chứng sinh" in html and "còn thiếu" in html.lower()
    assert not Dossier.objects.exists()
    assert 'value="Trần Văn Bé"' in html and "checked" in html  # what was typed and ticked is kept


def test_counter_supplement_then_accept(birth_procedure, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    client.post(
        "/can-bo/tiep-nhan/",
        counter_form(**{"received-1": "1", "decision": "request_supplement", "items": "Bản sao giấy đăng ký kết hôn"}),
    )
    dossier = Dossier.objects.get()
    assert dossier.status == Status.SUPPLEMENT_REQUESTED
    assert dossier.supplement_requests.get().items == ["Giấy chứng sinh", "Bản sao giấy đăng ký kết hôn"]
    client.post(f"/can-bo/ho-so/{dossier.code}/supplement/", {"received-1": "1", "received-2": "1"})
    client.post(f"/can-bo/ho-so/{dossier.code}/accept/")
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS


def test_counter_lookup_fills_applicant_from_population_registry(birth_procedure, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    html = client.post("/can-bo/tiep-nhan/", counter_form(full_name="", address="", decision="lookup")).content.decode()
    assert "CSDL quốc gia về dân cư" in html and 'id="full_name" name="full_name" value=""' not in html
    assert not Dossier.objects.exists()


def test_counter_refuse_requires_reason_next_to_field(birth_procedure, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    html = client.post("/can-bo/tiep-nhan/", counter_form(decision="refuse")).content.decode()
    assert 'id="reason-err"' in html and "lý do" in html and not Dossier.objects.exists()


def make_dossier(officers, at=None, **kw):
    return services.submit(
        actor=officers["xa_a"]["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant={"identity_number": "089201001234", "full_name": "Trần Văn Bé"},
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
        at=at,
        **kw,
    )


def test_inbox_tabs_counts_and_colours(birth_procedure, officers):
    xa = officers["xa_a"]
    now = timezone.now()
    calendar = calendar_for(now)
    waiting = make_dossier(officers)
    overdue = make_dossier(officers)
    services.accept(overdue, actor=xa["counter_officer"])
    Dossier.objects.filter(pk=overdue.pk).update(due_at=now - dt.timedelta(hours=1))
    soon = make_dossier(officers)
    services.accept(soon, actor=xa["counter_officer"])
    Dossier.objects.filter(pk=soon.pk).update(due_at=closing_time(calendar.next_working_day(local_date(now))))
    later = make_dossier(officers)
    services.accept(later, actor=xa["counter_officer"])
    Dossier.objects.filter(pk=later.pk).update(due_at=closing_time(calendar.add_working_days(local_date(now), 5)))

    html = signed_in(xa["specialist"]).get("/can-bo/").content.decode()
    assert "Việc của tôi (3)" in html and "Chờ tiếp nhận (1)" in html and "Quá hạn (1)" in html
    rows = [line for line in html.splitlines() if line.startswith("<tr class=")]
    assert [r.split('"')[1] for r in rows] == ["overdue", "due_soon", "in_time"]  # most urgent first
    assert waiting.code not in html  # the specialist's own work only
    counter_html = signed_in(xa["counter_officer"]).get("/can-bo/").content.decode()
    assert waiting.code in counter_html and "Việc của tôi (1)" in counter_html
    filtered = (
        signed_in(xa["specialist"]).get("/can-bo/", {"tab": "dang-giai-quyet", "kenh": "online"}).content.decode()
    )
    assert "Đang giải quyết (0)" in filtered


def test_dossier_page_actions_history_comments_result(birth_procedure, officers, citizen):
    xa = officers["xa_a"]
    dossier = make_dossier(officers)
    counter, specialist, leader = (signed_in(xa[r]) for r in ("counter_officer", "specialist", "leader"))
    page = counter.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert "Tiếp nhận" in page and "Trần Văn Bé" in page and "Chờ tiếp nhận" in page
    counter.post(f"/can-bo/ho-so/{dossier.code}/accept/")
    page = specialist.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert "Chuyển bước “Phê duyệt”" in page
    specialist.post(f"/can-bo/ho-so/{dossier.code}/comment/", {"text": "Đã kiểm tra <b>giấy chứng sinh</b>"})
    specialist.post(f"/can-bo/ho-so/{dossier.code}/forward/", {"note": "Đủ điều kiện"})
    from django.core.files.uploadedfile import SimpleUploadedFile

    leader.post(
        f"/can-bo/ho-so/{dossier.code}/attach_result/", {"number": "12/GKS", "file": SimpleUploadedFile("gks.pdf", PDF)}
    )
    leader.post(f"/can-bo/ho-so/{dossier.code}/forward/")
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY and dossier.has_electronic_result
    counter.post(f"/can-bo/ho-so/{dossier.code}/record_payment/", {"amount": "8.000"})
    counter.post(f"/can-bo/ho-so/{dossier.code}/return_result/", {"delivery": "online", "xac_nhan": "1"})
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED and dossier.delivery == "online"
    page = leader.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert "&lt;b&gt;giấy chứng sinh&lt;/b&gt;" in page  # comments are escaped
    assert "Cán bộ xa_a specialist" in page and "Đủ điều kiện" in page  # who did what
    assert DossierComment.objects.get().author == xa["specialist"]


def test_action_error_is_shown_in_vietnamese(birth_procedure, officers):
    dossier = make_dossier(officers)
    client = signed_in(officers["xa_a"]["counter_officer"])
    page = client.post(f"/can-bo/ho-so/{dossier.code}/refuse/", {"reason": ""}, follow=True).content.decode()
    assert "Từ chối tiếp nhận: Phải nêu rõ lý do từ chối tiếp nhận." in page


def test_citizens_and_other_agencies_cannot_reach_officer_pages(birth_procedure, officers, citizen):
    dossier = make_dossier(officers)
    as_citizen = signed_in(citizen)
    for url in ("/can-bo/", "/can-bo/tiep-nhan/", f"/can-bo/ho-so/{dossier.code}/", "/can-bo/so-theo-doi/"):
        assert as_citizen.get(url).status_code == 403, url
    assert as_citizen.post(f"/can-bo/ho-so/{dossier.code}/accept/").status_code == 403
    other = signed_in(officers["xa_b"]["counter_officer"])
    assert other.get(f"/can-bo/ho-so/{dossier.code}/").status_code == 404
    assert other.post(f"/can-bo/ho-so/{dossier.code}/accept/").status_code == 404
    assert dossier.code not in other.get("/can-bo/?tab=cho-tiep-nhan").content.decode()
    assert Client().get("/can-bo/")["Location"].startswith("/dang-nhap/")
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED

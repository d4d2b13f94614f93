"""The dossier page of the back office: one primary action per status (the others behind a
disclosure), confirmation before refusing and returning, messages that say what happened,
papers previewed inline through an access-checked view, and the specialist named at
acceptance (validated, audited, reassigned by the leader)."""

import re

import pytest
from django.test import Client

from chinhquyenso.core.errors import DomainError, PermissionDenied
from chinhquyenso.core.models import AuditRecord
from chinhquyenso.core.templatetags.cqs import vndatetime
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import services
from chinhquyenso.dossiers.models import Dossier, DossierEvent, Status
from tests.browser.support import minimal_pdf, tiny_png
from tests.core.test_workflow import run_at_once

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def at_counter(officers, papers=(1, 2), name="Trần Văn Bé"):
    return services.submit(
        actor=officers["xa_a"]["counter_officer"],
        procedure_code="1.001193",
        channel="counter",
        agency_code="xa-kien-an",
        applicant={"identity_number": "089201001234", "full_name": name},
        components=[{"order": n, "on_paper": True} for n in papers],
        verify_identity=False,
    )


def online(citizen):
    form = store_upload(minimal_pdf("To khai"), original_name="to-khai.pdf", user=citizen)
    photo = store_upload(tiny_png(), original_name="giay-chung-sinh.png", user=citizen)
    dossier = services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        applicant={"phone": "0912345678"},
        components=[{"order": 1, "file_id": form.sha256}, {"order": 2, "file_id": photo.sha256}],
        verify_identity=False,
    )
    return dossier, form, photo


def split(html: str) -> tuple[str, str]:
    """(the open part of "Xử lý", what sits behind "Thao tác khác")."""
    section = html.split('<h2 id="xu-ly">', 1)[1].split('<h2 id="thanh-phan">', 1)[0]
    shown, _, hidden = section.partition('<details class="more-actions">')
    return shown, hidden


def action_urls(part: str) -> list[str]:
    return re.findall(r'action="/can-bo/ho-so/[^/]+/(\w+)/"', part)


# ---------------------------------------------------------------- one primary action


def test_each_status_shows_the_action_it_expects_first_and_the_others_behind_a_disclosure(birth_procedure, officers):
    xa = officers["xa_a"]
    counter, specialist, leader = (signed_in(xa[r]) for r in ("counter_officer", "specialist", "leader"))
    dossier = at_counter(officers)
    page = lambda client: split(client.get(f"/can-bo/ho-so/{dossier.code}/").content.decode())  # noqa: E731

    shown, hidden = page(counter)
    assert action_urls(shown) == ["accept"]
    assert action_urls(hidden) == ["request_supplement", "refuse"]
    assert "<summary>Thao tác khác (2): yêu cầu bổ sung, từ chối tiếp nhận</summary>" in hidden
    # The button comes right after the field it needs, inside the same form.
    assert re.search(r'name="assignee".*?</select>.*?<button type="submit">Tiếp nhận</button>', shown, re.S)

    services.accept(dossier, actor=xa["counter_officer"])
    shown, hidden = page(specialist)
    assert action_urls(shown) == ["forward"] and "request_supplement" in action_urls(hidden)
    services.forward(dossier, actor=xa["specialist"])
    shown, hidden = page(leader)  # the last step: the result is attached, then approved
    assert action_urls(shown) == ["attach_result", "forward"]
    assert "Phê duyệt, có kết quả" in shown and set(action_urls(hidden)) >= {"assign", "reschedule"}
    services.forward(dossier, actor=xa["leader"])
    shown, hidden = page(counter)
    assert action_urls(shown) == ["record_payment"] and "return_result" in action_urls(hidden)
    services.record_payment(dossier, actor=xa["counter_officer"], amount=dossier.fee_due, method="counter")
    shown, hidden = page(counter)
    assert action_urls(shown) == ["return_result"]


def test_a_dossier_missing_papers_offers_the_supplement_request_first(birth_procedure, officers):
    xa = officers["xa_a"]
    dossier = at_counter(officers, papers=(1,))
    shown, hidden = split(signed_in(xa["counter_officer"]).get(f"/can-bo/ho-so/{dossier.code}/").content.decode())
    assert action_urls(shown) == ["request_supplement"]
    assert "accept" in action_urls(hidden) and "Còn thiếu: Giấy chứng sinh" in hidden
    services.request_supplement(dossier, actor=xa["counter_officer"])
    shown, hidden = split(signed_in(xa["counter_officer"]).get(f"/can-bo/ho-so/{dossier.code}/").content.decode())
    assert action_urls(shown) == ["supplement"] and action_urls(hidden) == ["refuse"]


# ---------------------------------------------------------------- confirmations


def test_refusing_needs_the_confirmation_box(birth_procedure, officers):
    dossier = at_counter(officers)
    client = signed_in(officers["xa_a"]["counter_officer"])
    html = client.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert re.search(r'<input type="checkbox" id="refuse-confirm" name="xac_nhan" value="1" required>', html)
    page = client.post(f"/can-bo/ho-so/{dossier.code}/refuse/", {"reason": "Sai thẩm quyền"}, follow=True)
    assert "Hãy đánh dấu ô xác nhận trước khi từ chối tiếp nhận hồ sơ." in page.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SUBMITTED
    page = client.post(
        f"/can-bo/ho-so/{dossier.code}/refuse/", {"reason": "Sai thẩm quyền", "xac_nhan": "1"}, follow=True
    )
    assert f"Đã từ chối tiếp nhận hồ sơ {dossier.code} (Mẫu 03)." in page.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.REFUSED


def test_returning_the_result_needs_the_confirmation_box(birth_procedure, officers):
    xa = officers["xa_a"]
    dossier = at_counter(officers)
    services.accept(dossier, actor=xa["counter_officer"])
    services.forward(dossier, actor=xa["specialist"])
    services.forward(dossier, actor=xa["leader"])
    services.record_payment(dossier, actor=xa["counter_officer"], amount=dossier.fee_due, method="counter")
    client = signed_in(xa["counter_officer"])
    assert 'name="xac_nhan" value="1" required' in client.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    page = client.post(f"/can-bo/ho-so/{dossier.code}/return_result/", {"delivery": "counter"}, follow=True)
    assert "Hãy đánh dấu ô xác nhận trước khi trả kết quả." in page.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.RESULT_READY
    page = client.post(
        f"/can-bo/ho-so/{dossier.code}/return_result/", {"delivery": "counter", "xac_nhan": "1"}, follow=True
    )
    assert f"Đã trả kết quả hồ sơ {dossier.code} (tại bộ phận một cửa)." in page.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.RETURNED


def test_refusing_a_walk_in_dossier_at_the_counter_needs_the_confirmation_box(birth_procedure, officers):
    client = signed_in(officers["xa_a"]["counter_officer"])
    form = {
        "procedure_code": "1.001193",
        "identity_number": "089201001234",
        "full_name": "Trần Văn Bé",
        "agency_code": "xa-kien-an",
        "idempotency_key": "k-refuse",
        "decision": "refuse",
        "reason": "Không thuộc thẩm quyền",
    }
    html = client.post("/can-bo/tiep-nhan/", form).content.decode()
    assert 'id="confirm-err"' in html and "Hãy đánh dấu ô xác nhận" in html and not Dossier.objects.exists()
    response = client.post("/can-bo/tiep-nhan/", {**form, "xac_nhan_tu_choi": "1"})
    assert response.status_code == 302 and Dossier.objects.get().status == Status.REFUSED


# ---------------------------------------------------------------- success messages


def test_success_messages_say_what_happened(birth_procedure, officers):
    xa = officers["xa_a"]
    dossier = at_counter(officers)
    counter = signed_in(xa["counter_officer"])
    html = counter.post(
        f"/can-bo/ho-so/{dossier.code}/accept/", {"assignee": xa["specialist"].pk}, follow=True
    ).content.decode()
    dossier.refresh_from_db()
    assert (
        f"Đã tiếp nhận hồ sơ {dossier.code}, hẹn trả {vndatetime(dossier.due_at)}; "
        "chuyên viên thụ lý: Cán bộ xa_a specialist." in html
    )
    assert re.fullmatch(r"\d\d:\d\d \d\d/\d\d/\d{4}", vndatetime(dossier.due_at))
    html = signed_in(xa["specialist"]).post(f"/can-bo/ho-so/{dossier.code}/forward/", follow=True).content.decode()
    assert f"Đã chuyển hồ sơ {dossier.code} đến bước “Phê duyệt”, UBND xã Kiến An." in html
    html = signed_in(xa["leader"]).post(f"/can-bo/ho-so/{dossier.code}/forward/", follow=True).content.decode()
    assert f"Đã phê duyệt hồ sơ {dossier.code}: có kết quả" in html
    html = counter.post(f"/can-bo/ho-so/{dossier.code}/record_payment/", {"amount": "8.000"}, follow=True)
    assert f"Đã thu 8.000 đồng phí, lệ phí hồ sơ {dossier.code}." in html.content.decode()


def test_the_counter_says_the_appointment_when_it_accepts(birth_procedure, officers):
    xa = officers["xa_a"]
    client = signed_in(xa["counter_officer"])
    form = {
        "procedure_code": "1.001193",
        "identity_number": "089201001234",
        "full_name": "Trần Văn Bé",
        "agency_code": "xa-kien-an",
        "idempotency_key": "k-accept",
        "decision": "accept",
        "received-1": "1",
        "received-2": "1",
        "assignee": str(xa["specialist"].pk),
    }
    page = client.get("/can-bo/tiep-nhan/", {"thu_tuc": "1.001193"}).content.decode()
    assert f'<option value="{xa["specialist"].pk}">Cán bộ xa_a specialist — UBND xã Kiến An</option>' in page
    assert f'value="{officers["xa_b"]["specialist"].pk}"' not in page  # the commune's own specialists only
    html = client.post("/can-bo/tiep-nhan/", form, follow=True).content.decode()
    dossier = Dossier.objects.get()
    assert dossier.assignee == xa["specialist"]
    assert f"Đã tiếp nhận hồ sơ {dossier.code}, hẹn trả {vndatetime(dossier.due_at)}" in html


# ---------------------------------------------------------------- previews and the checklist


def test_papers_are_listed_with_a_checklist_and_previewed_inline(birth_procedure, officers, citizen):
    dossier, form, photo = online(citizen)
    client = signed_in(officers["xa_a"]["counter_officer"])
    url = f"/can-bo/ho-so/{dossier.code}/"
    html = client.get(url).content.decode()
    checklist = html.split('<table class="checklist">', 1)[1].split("</table>", 1)[0]
    assert checklist.count('<span class="badge in_time">✓ đã nhận') == 2 and "(không bắt buộc)" in checklist
    assert f'href="?xem={form.sha256}#xem-truoc">Xem trước (PDF)</a>' in checklist
    assert f'<img class="preview" src="/can-bo/ho-so/{dossier.code}/tep/{photo.sha256}/"' in checklist
    assert f'href="/tep/{form.sha256}/?tai=1">Tải về</a>' in checklist
    assert "<iframe" not in html  # nothing heavy until asked for

    html = client.get(url, {"xem": form.sha256}).content.decode()
    assert (
        f'<iframe class="preview-pdf" src="/can-bo/ho-so/{dossier.code}/tep/{form.sha256}/" '
        'title="Xem trước: Tờ khai đăng ký khai sinh"></iframe>' in html
    )
    assert f'<a href="/tep/{form.sha256}/?tai=1">Tải tệp về máy</a>' in html  # the fallback
    html = client.get(url, {"xem": photo.sha256}).content.decode()
    assert f'<img class="preview-large" src="/can-bo/ho-so/{dossier.code}/tep/{photo.sha256}/"' in html
    assert "<iframe" not in client.get(url, {"xem": "0" * 64}).content.decode()

    response = client.get(f"/can-bo/ho-so/{dossier.code}/tep/{form.sha256}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"  # the dossier page may frame it; no other site
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "sandbox" in response["Content-Security-Policy"] and response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in response.get("Content-Disposition", "")


def test_a_missing_paper_shows_as_missing(birth_procedure, officers):
    dossier = at_counter(officers, papers=(1,))
    html = signed_in(officers["xa_a"]["counter_officer"]).get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    checklist = html.split('<table class="checklist">', 1)[1].split("</table>", 1)[0]
    row = checklist.split("<td>Giấy chứng sinh", 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge overdue">thiếu</span>' in row


def test_only_those_who_see_the_dossier_may_preview_its_papers(birth_procedure, officers, citizen):
    dossier, form, _ = online(citizen)
    url = f"/can-bo/ho-so/{dossier.code}/tep/{form.sha256}/"
    assert signed_in(officers["xa_b"]["counter_officer"]).get(url).status_code == 404
    assert signed_in(officers["xa_b"]["counter_officer"]).get(f"/can-bo/ho-so/{dossier.code}/").status_code == 404
    assert signed_in(citizen).get(url).status_code == 403  # citizens use their own file view
    assert Client().get(url).status_code == 302  # to the sign-in page
    mine = signed_in(officers["xa_a"]["counter_officer"])
    # A file of the dossier named, not any file the officer may read: tied to the code in the URL.
    stranger = store_upload(minimal_pdf("Khac"), original_name="khac.pdf", user=officers["xa_a"]["counter_officer"])
    assert mine.get(f"/can-bo/ho-so/{dossier.code}/tep/{stranger.sha256}/").status_code == 404
    assert mine.get(url).status_code == 200


# ---------------------------------------------------------------- naming the specialist


def test_the_specialist_named_at_acceptance_is_checked_and_audited(birth_procedure, officers):
    xa = officers["xa_a"]
    dossier = at_counter(officers)
    for wrong in (officers["xa_b"]["specialist"], xa["leader"], 999999, "abc"):
        with pytest.raises(DomainError, match="không phải chuyên viên của cơ quan"):
            services.accept(dossier, actor=xa["counter_officer"], assignee=wrong)
        assert Dossier.objects.get(pk=dossier.pk).status == Status.SUBMITTED  # nothing half-written
    xa["specialist"].is_active = False
    xa["specialist"].save()
    with pytest.raises(DomainError):
        services.accept(dossier, actor=xa["counter_officer"], assignee=xa["specialist"])
    xa["specialist"].is_active = True
    xa["specialist"].save()

    services.accept(dossier, actor=xa["counter_officer"], assignee=str(xa["specialist"].pk))
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS and dossier.assignee == xa["specialist"]
    record = AuditRecord.objects.get(action="dossier.accept", object_id=str(dossier.pk))
    assert record.after["assignee"] == xa["specialist"].pk
    event = DossierEvent.objects.get(dossier=dossier, action="accept")
    assert "Chuyên viên thụ lý: Cán bộ xa_a specialist" in event.note
    page = signed_in(xa["specialist"]).get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert "<dt>Chuyên viên thụ lý</dt><dd>Cán bộ xa_a specialist</dd>" in page


def test_an_invalid_specialist_from_the_form_is_refused_with_a_message(birth_procedure, officers):
    xa = officers["xa_a"]
    dossier = at_counter(officers)
    page = signed_in(xa["counter_officer"]).post(
        f"/can-bo/ho-so/{dossier.code}/accept/", {"assignee": officers["xa_b"]["specialist"].pk}, follow=True
    )
    assert "Tiếp nhận: Chuyên viên được chọn không phải chuyên viên" in page.content.decode()
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SUBMITTED


def test_the_leader_reassigns_the_dossier(birth_procedure, officers, admin_user):
    from chinhquyenso.accounts import services as accounts

    xa = officers["xa_a"]
    second = accounts.create_officer(
        actor=admin_user,
        username="xa_a.specialist2",
        password="Mat-khau-2025",
        full_name="Lê Thị Hai",
        memberships=[(xa["specialist"].memberships.get().agency, "specialist")],
    )
    dossier = at_counter(officers)
    services.accept(dossier, actor=xa["counter_officer"], assignee=xa["specialist"])
    for not_leader in (xa["specialist"], xa["counter_officer"], officers["xa_b"]["leader"]):
        with pytest.raises(PermissionDenied):
            services.assign(dossier, actor=not_leader, assignee=second)
    leader = signed_in(xa["leader"])
    page = leader.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert f'<option value="{second.pk}">Lê Thị Hai</option>' in page and "Giao lại" in page
    html = leader.post(f"/can-bo/ho-so/{dossier.code}/assign/", {"assignee": second.pk}, follow=True)
    assert f"Đã giao hồ sơ {dossier.code} cho chuyên viên Lê Thị Hai." in html.content.decode()
    dossier.refresh_from_db()
    assert dossier.assignee == second and dossier.status == Status.IN_PROCESS
    record = AuditRecord.objects.get(action="dossier.assign", object_id=str(dossier.pk))
    assert record.after["assignee"] == second.pk and record.after["previous_assignee"] == xa["specialist"].pk
    assert "Giao chuyên viên thụ lý" in html.content.decode()  # in the history
    with pytest.raises(DomainError, match="đã được giao"):
        services.assign(dossier, actor=xa["leader"], assignee=second)


@pytest.mark.django_db(transaction=True)
def test_two_counters_accepting_at_once_name_one_specialist(birth_procedure, officers, admin_user):
    from chinhquyenso.accounts import services as accounts

    xa = officers["xa_a"]
    agency = xa["specialist"].memberships.get().agency
    second = accounts.create_officer(
        actor=admin_user,
        username="xa_a.counter2",
        password="Mat-khau-2025",
        full_name="Cán bộ một cửa thứ hai",
        memberships=[(agency, "counter_officer")],
    )
    other_specialist = accounts.create_officer(
        actor=admin_user,
        username="xa_a.specialist3",
        password="Mat-khau-2025",
        full_name="Chuyên viên thứ ba",
        memberships=[(agency, "specialist")],
    )
    dossier = at_counter(officers)
    picks = [(xa["counter_officer"], xa["specialist"]), (second, other_specialist)]

    def work(i):
        actor, named = picks[i]
        return services.accept(Dossier.objects.get(pk=dossier.pk), actor=actor, assignee=named)

    results = run_at_once(2, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], DomainError), results
    dossier.refresh_from_db()
    winner = next(i for i, r in enumerate(results) if not isinstance(r, Exception))
    assert dossier.assignee == picks[winner][1]
    assert DossierEvent.objects.filter(dossier=dossier, action="accept").count() == 1
    assert AuditRecord.objects.filter(action="dossier.accept", object_id=str(dossier.pk)).count() == 1

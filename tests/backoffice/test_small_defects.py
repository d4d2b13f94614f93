"""Small things a user sees (issue 17, item 17): one status, one condition
in a component's name, only the actions the service allows, no step on a
finished dossier, a favicon, and file errors in Vietnamese."""

import errno
import html
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client

from chinhquyenso.accounts.models import Role
from chinhquyenso.core.errors import DomainError, os_reason
from chinhquyenso.core.uploads import store_upload
from chinhquyenso.dossiers import selectors, services
from chinhquyenso.dossiers.models import Dossier, Status
from tests.backoffice.test_backoffice_pages import PDF, signed_in
from tests.backoffice.test_backoffice_pages import make_dossier as submitted
from tests.conftest import make_procedure

pytestmark = pytest.mark.django_db


def text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def status_shown(page: str) -> str:
    return text(re.search(r"<dt>Trạng thái</dt><dd>(.*?)</dd>", page, re.S).group(1))


# ---------------------------------------------------------------- one status


def test_a_dossier_not_yet_accepted_shows_one_status(birth_procedure, officers):
    dossier = submitted(officers)
    counter = signed_in(officers["xa_a"]["counter_officer"])
    assert status_shown(counter.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()) == "Chờ tiếp nhận"
    inbox = counter.get("/can-bo/", {"tab": "cho-tiep-nhan"}).content.decode()
    row = next(line for line in inbox.splitlines() if dossier.code in line and line.startswith("<tr"))
    cells = re.findall(r"<td>(.*?)</td>", inbox[inbox.index(row) :].split("</tr>")[0], re.S)
    assert text(cells[-1]) == "Chờ tiếp nhận"


def test_the_clock_label_still_shows_while_processing(birth_procedure, officers):
    dossier = submitted(officers)
    services.accept(dossier, actor=officers["xa_a"]["counter_officer"])
    page = signed_in(officers["xa_a"]["specialist"]).get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert status_shown(page) == "Đang giải quyết — bước “Thụ lý” Trong hạn"


# ---------------------------------------------------------------- one condition in a name


@pytest.fixture
def proxy_procedure(province, admin_user):
    return make_procedure(
        admin_user,
        [province["xa_a"]],
        components=[
            {"name": "Tờ khai đăng ký khai sinh"},
            {"name": "Văn bản ủy quyền (nếu nộp thay)", "mandatory": False},
            {"name": "Giấy tờ tùy thân của người đi đăng ký", "mandatory": False},
        ],
    )


def test_an_optional_component_that_states_its_condition_gets_no_second_one(proxy_procedure, officers, citizen):
    labels = [c.label for c in proxy_procedure.components.all()]
    assert labels == [
        "Tờ khai đăng ký khai sinh",
        "Văn bản ủy quyền (nếu nộp thay)",
        "Giấy tờ tùy thân của người đi đăng ký (nếu có)",
    ]
    portal = Client().get("/thu-tuc/1.001193/").content.decode()
    counter = signed_in(officers["xa_a"]["counter_officer"]).get("/can-bo/tiep-nhan/", {"thu_tuc": "1.001193"})
    client = signed_in(citizen)
    draft = re.search(r"/nop-ho-so/(\d+)/", client.get("/thu-tuc/1.001193/nop-truc-tuyen/")["Location"]).group(1)
    wizard = client.get(f"/nop-ho-so/{draft}/giay-to/").content.decode()
    for page in (portal, counter.content.decode(), wizard):
        seen = text(page)
        assert "Văn bản ủy quyền (nếu nộp thay)" in seen and ") (nếu có)" not in seen
        assert "Giấy tờ tùy thân của người đi đăng ký (nếu có)" in seen


# ---------------------------------------------------------------- actions offered = actions allowed


def allowed_to_attach(user, dossier: Dossier) -> bool:
    """Whether services.attach_result accepts this user now (tried, then undone)."""
    try:
        with transaction.atomic():
            services.attach_result(dossier, actor=user, file=store_upload(PDF, original_name="kq.pdf", user=user))
            transaction.set_rollback(True)
    except DomainError:
        return False
    return True


def test_attach_result_is_offered_exactly_to_whoever_may_attach_it(birth_procedure, officers):
    xa = officers["xa_a"]
    dossier = submitted(officers)
    services.accept(dossier, actor=xa["counter_officer"])
    at_specialist_step = {role: "attach_result" in selectors.available_actions(xa[role], dossier) for role in Role}
    assert at_specialist_step[Role.SPECIALIST] and not at_specialist_step[Role.COUNTER_OFFICER]
    stages = [at_specialist_step]
    services.forward(dossier, actor=xa["specialist"])
    stages.append({role: "attach_result" in selectors.available_actions(xa[role], dossier) for role in Role})
    assert stages[-1][Role.LEADER] and not stages[-1][Role.SPECIALIST] and not stages[-1][Role.COUNTER_OFFICER]
    for role, offered in stages[-1].items():
        dossier.refresh_from_db()
        assert offered == allowed_to_attach(xa[role], dossier), role
    services.forward(dossier, actor=xa["leader"])
    dossier.refresh_from_db()
    assert dossier.status == Status.RESULT_READY
    for role in Role:
        offered = "attach_result" in selectors.available_actions(xa[role], dossier)
        assert offered == allowed_to_attach(xa[role], dossier), role
    assert "attach_result" in selectors.available_actions(xa["counter_officer"], dossier)  # digitizes the paper result


def test_counter_page_at_the_specialists_step_offers_no_result(birth_procedure, officers):
    dossier = submitted(officers)
    services.accept(dossier, actor=officers["xa_a"]["counter_officer"])
    page = signed_in(officers["xa_a"]["counter_officer"]).get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert "Đính kèm kết quả điện tử" not in page
    with pytest.raises(DomainError):
        services.attach_result(
            dossier, actor=officers["xa_a"]["counter_officer"], file=store_upload(PDF, original_name="kq.pdf")
        )


# ---------------------------------------------------------------- no step on a finished dossier


def test_a_returned_dossier_shows_no_step(birth_procedure, officers):
    xa = officers["xa_a"]
    dossier = submitted(officers)
    services.accept(dossier, actor=xa["counter_officer"])
    services.forward(dossier, actor=xa["specialist"])
    services.forward(dossier, actor=xa["leader"])
    dossier.refresh_from_db()
    services.record_payment(dossier, actor=xa["counter_officer"], amount=dossier.fee_due, method="counter")
    services.return_result(dossier, actor=xa["counter_officer"], delivery="counter")
    page = signed_in(xa["leader"]).get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert status_shown(page) == "Đã trả kết quả"


# ---------------------------------------------------------------- favicon


def test_favicon_is_linked_and_answered(birth_procedure):
    page = Client().get("/thu-tuc/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert icon.endswith("favicon.ico")
    response = Client().get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == icon
    served = Client().get(icon)
    assert served.status_code == 200 and b"".join(served.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO


# ---------------------------------------------------------------- file errors in Vietnamese


def test_a_missing_file_is_explained_in_vietnamese(tmp_path):
    with pytest.raises(CommandError) as missing:
        call_command("report", "check", str(tmp_path / "khong-co.pdf"))
    assert str(missing.value).endswith(": không có tệp hoặc thư mục này.")
    with pytest.raises(CommandError) as folder:
        call_command("report", "check", str(tmp_path))
    assert "đây là một thư mục" in str(folder.value) and "directory" not in str(folder.value)
    with pytest.raises(CommandError) as catalog:
        call_command("import_catalog", str(tmp_path / "danh-muc.json"))
    assert "No such file" not in str(catalog.value) and "không có tệp hoặc thư mục này" in str(catalog.value)


def test_os_reasons_are_vietnamese():
    assert os_reason(PermissionError(errno.EACCES, "Permission denied")) == "không có quyền truy cập"
    assert os_reason(OSError(errno.ENOSPC, "No space left on device")) == "ổ đĩa đã đầy"
    assert "Broken" not in os_reason(OSError(errno.EPIPE, "Broken pipe"))


def test_a_reason_typed_on_several_lines_is_shown_on_several_lines(birth_procedure, officers, citizen):
    """nfc_lines keeps the lines of a reason; the dossier's history on the officer's page and on the
    citizen's tracking page shows them as lines, not run together."""
    from django.test import Client

    from chinhquyenso.dossiers import services as dossier_services

    dossier = dossier_services.submit(
        actor=citizen,
        procedure_code="1.001193",
        channel="online",
        agency_code="xa-kien-an",
        components=[{"order": 1, "on_paper": True}, {"order": 2, "on_paper": True}],
    )
    officer = officers["xa_a"]["counter_officer"]
    dossier_services.refuse(dossier, actor=officer, reason="Bản chụp bị mờ.\nNộp lại bản rõ nét.")
    client = Client()
    client.force_login(officer)
    officer_page = client.get(f"/can-bo/ho-so/{dossier.code}/").content.decode()
    assert "Bản chụp bị mờ.<br>Nộp lại bản rõ nét." in officer_page
    citizen_client = Client()
    citizen_client.force_login(citizen)
    tracking = citizen_client.get("/tra-cuu/", {"ma": dossier.code}).content.decode()
    assert "Bản chụp bị mờ.<br>Nộp lại bản rõ nét." in tracking

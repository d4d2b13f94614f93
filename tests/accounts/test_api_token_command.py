"""`cqs api-token issue|list|revoke`: the operator's way to give a system its CKAN API key, see the
keys without their secrets, and take one back (accounts.services.issue_api_token / revoke_api_token
with `by_operator`)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chinhquyenso.accounts import services
from chinhquyenso.accounts.models import ApiToken
from chinhquyenso.core.errors import PermissionDenied
from chinhquyenso.core.models import AuditRecord

SECRET = re.compile(r"^cqs_\S{20,}$", re.M)


def run(*args) -> str:
    out = io.StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue()


def issue(agency="so-tu-phap", name="Phần mềm quản lý hộ tịch") -> str:
    out = run("issue", "--agency", agency, "--name", name)
    return SECRET.search(out).group(0)


def search_status(client, secret: str) -> int:
    return client.get("/api/3/action/package_search", {"include_drafts": "true"}, HTTP_AUTHORIZATION=secret).status_code


@pytest.fixture
def tu_phap(province):
    assert province["tu_phap"].code == "so-tu-phap"
    return province["tu_phap"]


def test_issue_prints_the_secret_once_and_it_works(client, tu_phap):
    out = run("issue", "--agency", "so-tu-phap", "--name", "Phần mềm quản lý hộ tịch")
    assert "MỘT LẦN" in out and "không in lại" in out
    secret = SECRET.search(out).group(0)
    token = ApiToken.objects.get()
    assert token.agency == tu_phap and token.name == "Phần mềm quản lý hộ tịch"
    assert token.key_hash == ApiToken.hash_secret(secret) and secret not in str(token.__dict__)
    assert services.user_for_token(secret) == token.user
    assert search_status(client, secret) == 200
    assert search_status(client, "cqs_sai") == 403
    record = AuditRecord.objects.get(action="api_token.issue")
    assert record.actor is None and record.actor_label == "cqs api-token" and record.agency_id == tu_phap.pk


def test_issue_refuses_an_unknown_or_closed_agency(tu_phap):
    with pytest.raises(CommandError, match="Không có cơ quan mã «khong-co»"):
        run("issue", "--agency", "khong-co", "--name", "Hệ thống")
    type(tu_phap).objects.filter(pk=tu_phap.pk).update(valid_to=dt.date(2024, 1, 1))
    with pytest.raises(CommandError, match="hết hiệu lực"):
        run("issue", "--agency", "so-tu-phap", "--name", "Hệ thống")
    with pytest.raises(CommandError, match="thiếu tham số bắt buộc: --name"):
        run("issue", "--agency", "so-tu-phap")
    assert not ApiToken.objects.exists()


def test_list_shows_the_tokens_never_their_secrets(province, tu_phap):
    first = issue()
    second = issue("cong-an-tinh", "CSDL")
    out = run("list")
    assert "Phần mềm quản lý hộ tịch" in out and "so-tu-phap" in out and "CSDL" in out
    for secret in (first, second):
        token = ApiToken.objects.get(key_hash=ApiToken.hash_secret(secret))
        assert f"cqs_{token.key_prefix}…" in out
        assert secret not in out and token.key_hash not in out
    only = run("list", "--agency", "so-tu-phap")
    assert "Phần mềm quản lý hộ tịch" in only and "CSDL" not in only
    assert "Chưa có khóa API nào" in run("list", "--agency", "khong-co")


def test_revoke_by_prefix_stops_the_key(client, tu_phap):
    secret = issue()
    kept = issue(name="Hệ thống khác")
    out = run("revoke", secret[:12])
    assert "Đã thu hồi" in out
    assert services.user_for_token(secret) is None
    assert search_status(client, secret) == 403
    assert services.user_for_token(kept) is not None and search_status(client, kept) == 200
    record = AuditRecord.objects.get(action="api_token.revoke")
    assert record.actor_label == "cqs api-token" and record.agency_id == tu_phap.pk
    assert "đã bị thu hồi từ trước" in run("revoke", secret[4:12])
    assert AuditRecord.objects.filter(action="api_token.revoke").count() == 1
    assert "đang dùng" in run("list") and "đang dùng" not in run("list").splitlines()[1]


def test_revoke_by_number_and_unknown_key(tu_phap):
    secret = issue()
    token = ApiToken.objects.get()
    run("revoke", str(token.pk))
    assert services.user_for_token(secret) is None
    with pytest.raises(CommandError, match="Không có khóa API"):
        run("revoke", "zzzzzzzz")


def test_users_still_need_a_role(tu_phap, officers, admin_user):
    with pytest.raises(PermissionDenied):
        services.issue_api_token(actor="cqs api-token", agency=tu_phap, name="Hệ thống")
    with pytest.raises(PermissionDenied):
        services.issue_api_token(actor=officers["tu_phap"]["leader"], agency=tu_phap, name="Hệ thống")
    token, _ = services.issue_api_token(actor=officers["tu_phap"]["agency_admin"], agency=tu_phap, name="Hệ thống")
    with pytest.raises(PermissionDenied):
        services.revoke_api_token(actor=officers["tu_phap"]["specialist"], token=token)
    assert services.revoke_api_token(actor=admin_user, token=token)
    with pytest.raises(ValueError):
        services.issue_api_token(actor=admin_user, agency=tu_phap, name="Hệ thống", by_operator="cqs api-token")


def test_a_leader_token_is_issued_only_when_asked_and_withdraws_through_ckan(client, tu_phap, officers):
    """Withdrawing a dataset (CKAN's package_delete) is a leader's: the default token is refused, a token issued
    with --role leader withdraws; the role is audited and listed."""
    from chinhquyenso.opendata.models import DatasetStatus
    from chinhquyenso.opendata.services import datasets
    from chinhquyenso.opendata.vocabularies import load

    load()
    dataset = datasets.create_dataset(
        actor=officers["tu_phap"]["specialist"], agency=tu_phap, fields={"title": "Số ca khai sinh"}
    )
    datasets.submit(dataset, actor=officers["tu_phap"]["specialist"])
    datasets.approve(dataset, actor=officers["tu_phap"]["leader"])

    plain = issue(name="Phần mềm hộ tịch")
    out = run("issue", "--agency", "so-tu-phap", "--name", "Hệ thống điều hành", "--role", "leader")
    assert "vai trò lãnh đạo" in out
    leader = SECRET.search(out).group(0)
    roles = {
        record.after["name"]: record.after["role"] for record in AuditRecord.objects.filter(action="api_token.issue")
    }
    assert roles == {"Phần mềm hộ tịch": "counter_officer", "Hệ thống điều hành": "leader"}
    listed = {line.split("\t")[1]: line.split("\t")[3] for line in run("list").splitlines()[1:]}
    assert listed == {"Phần mềm hộ tịch": "Cán bộ một cửa", "Hệ thống điều hành": "Lãnh đạo"}

    def package_delete(secret):
        return client.post(
            "/api/3/action/package_delete",
            {"id": dataset.name},
            content_type="application/json",
            HTTP_AUTHORIZATION=secret,
        )

    refused = package_delete(plain)
    assert refused.status_code == 403 and refused.json()["error"]["__type"] == "Authorization Error"
    assert package_delete(leader).status_code == 200
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.WITHDRAWN
    with pytest.raises(
        CommandError, match="không có lựa chọn “agency_admin”; chọn một trong: “counter_officer”, “leader”"
    ):
        run("issue", "--agency", "so-tu-phap", "--name", "Hệ thống", "--role", "agency_admin")

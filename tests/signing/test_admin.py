"""The province administrator declares keys in the admin: audited, validated, no secret stored."""

import pytest
from django.urls import reverse

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.signing.models import SigningKey

pytestmark = pytest.mark.django_db


def form(agency, **overrides):
    data = {
        "purpose": "agency",
        "agency": agency.pk,
        "user": "",
        "kind": "pkcs12",
        "active": "on",
        "key_path": "/etc/chinhquyenso/keys/stp.p12",
        "passphrase_env": "CQS_KY_SO_STP",
        "passphrase_file": "",
        "module_path": "",
        "token_label": "",
        "key_label": "",
        "remote_user_id": "",
        "signer_name": "Nguyễn Văn Ánh",
        "signer_title": "Giám đốc",
        "seal_image_path": "",
        "valid_from": "",
        "valid_until": "",
    }
    return {**data, **overrides}


def test_admin_creates_a_key_and_audits_it(client, admin_user, province):
    client.force_login(admin_user)
    response = client.post(reverse("admin:signing_signingkey_add"), form(province["tu_phap"]))
    assert response.status_code == 302, response.content.decode()[:2000]
    key = SigningKey.objects.get()
    assert key.passphrase_env == "CQS_KY_SO_STP"
    record = AuditRecord.objects.filter(action="signing.signingkey.create").get()
    assert record.after["via"] == "admin" and "CQS_KY_SO_STP" not in str(record.after)


def test_admin_refuses_a_second_active_agency_key_and_a_pkcs12_key_without_a_path(client, admin_user, province):
    client.force_login(admin_user)
    url = reverse("admin:signing_signingkey_add")
    assert client.post(url, form(province["tu_phap"])).status_code == 302
    second = client.post(url, form(province["tu_phap"], key_path="/etc/chinhquyenso/keys/stp-2.p12"))
    assert second.status_code == 200 and "đã có một khoá ký số đang dùng" in second.content.decode()
    missing = client.post(url, form(province["cong_an"], key_path="", passphrase_env=""))
    page = missing.content.decode()
    assert "cần đường dẫn tệp" in page and "không nhập mật khẩu ở đây" in page
    assert SigningKey.objects.count() == 1

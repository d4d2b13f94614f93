"""The signed registry document (round trip, a changed byte, an untrusted signer) and the
`cqs bus registry` / `cqs bus services` command lines."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chinhquyenso.exchange.bus import keys, registry, registry_document
from chinhquyenso.exchange.models import BusAccessRight, BusMember, BusOperation, BusService, BusSubsystem

pytestmark = pytest.mark.django_db


def _registry():
    registry.load_defaults()
    key_pem, cert_pem = keys.generate_identity("bo-thu")
    member = BusMember.objects.create(instance="VN", member_class="GOV", code="000.00.00.G99", name="Bộ thử")
    client = BusSubsystem.objects.create(member=member, code="he-thong", name="Hệ thống của bộ", certificate=cert_pem)
    service = BusService.objects.get(code="lien-thong")
    BusAccessRight.objects.create(
        client=client, service=service, operation=service.operations.get(code="part-status"), note="QĐ 01"
    )
    return cert_pem


def _wipe():
    BusAccessRight.objects.all().delete()
    BusMember.objects.all().delete()


def test_round_trip(db):
    cert_pem = _registry()
    data = registry_document.export()
    signed, signature, end = data.split(b"\n")
    assert end == b"" and json.loads(signature)["key_id"] == keys.identity().key_id
    document = json.loads(signed)
    assert document["instance"] == "VN" and document["signer"] == keys.identity().cert_pem
    before = registry_document.content()
    _wipe()
    counts = registry_document.verify_and_load(data, keys.identity().cert_pem)
    assert counts["access_rights"] == BusAccessRight.objects.count() and counts["members"] == BusMember.objects.count()
    assert registry_document.content() == before
    assert BusSubsystem.objects.get(code="he-thong").certificate == cert_pem
    service = registry.resolve(registry.self_service("mot-cua", "lien-thong"))
    assert service.allows("VN/GOV/000.00.00.G99/he-thong", "part-status")
    # Loading it again changes nothing.
    again = registry_document.verify_and_load(data, keys.identity().cert_pem)
    assert again == dict.fromkeys(again, 0)


@pytest.mark.parametrize("where", ["content", "signature", "extra space", "extra line"])
def test_a_changed_byte_is_refused(db, where):
    _registry()
    data = registry_document.export()
    if where == "content":
        changed = data.replace("Bộ thử".encode(), "Bộ thứ".encode(), 1)
    elif where == "signature":
        signed, signature, _ = data.split(b"\n")
        body = json.loads(signature)
        body["signature"] = ("A" if body["signature"][0] != "A" else "B") + body["signature"][1:]
        changed = signed + b"\n" + json.dumps(body, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    elif where == "extra space":
        changed = data.replace(b'"format":', b'"format": ', 1)
    else:
        changed = data + b"\n"
    assert changed != data
    with pytest.raises(registry_document.RegistryDocumentError):
        registry_document.verify_and_load(changed, keys.identity().cert_pem)


def test_an_untrusted_signer_is_refused(db):
    _registry()
    data = registry_document.export()
    _, stranger = keys.generate_identity("truc-khac")
    with pytest.raises(registry_document.RegistryDocumentError) as error:
        registry_document.verify_and_load(data, stranger)
    assert "không được tin cậy" in error.value.message


def test_cli_load_export_import(db, tmp_path, capsys):
    call_command("bus", "registry", "load")
    assert "Đã nạp danh mục trục" in capsys.readouterr().out
    call_command("bus", "registry", "load", "--replace")
    capsys.readouterr()
    _registry()
    target = tmp_path / "danh-muc.json"
    call_command("bus", "registry", "export", str(target))
    assert "Đã xuất" in capsys.readouterr().out
    trust = tmp_path / "truc.crt"
    trust.write_text(keys.identity().cert_pem)
    _wipe()
    call_command("bus", "registry", "import", str(target), "--trust", str(trust))
    assert "Chữ ký hợp lệ" in capsys.readouterr().out
    assert BusOperation.objects.filter(code="part-status").exists()
    target.write_bytes(target.read_bytes().replace(b"Bo", b"Bx"))
    target.write_bytes(target.read_bytes()[:-5] + b"xxxx\n")
    with pytest.raises(CommandError):
        call_command("bus", "registry", "import", str(target), "--trust", str(trust))
    with pytest.raises(CommandError) as error:
        call_command("bus", "registry", "import", str(tmp_path / "khong-co.json"), "--trust", str(trust))
    assert "Không đọc, ghi được tệp" in str(error.value)


def test_cli_services(db, capsys):
    _registry()
    call_command("bus", "services")
    out = capsys.readouterr().out
    assert registry.self_service("mot-cua", "lien-thong") in out
    assert "part-status: POST /parts/{reference}/status" in out
    assert "Được gọi: VN/GOV/000.00.00.G99/he-thong — part-status" in out
    call_command("bus", "services", "--json")
    rows = json.loads(capsys.readouterr().out)
    lien_thong = next(r for r in rows if r["service"] == registry.self_service("mot-cua", "lien-thong"))
    assert lien_thong["access"]["VN/GOV/000.00.00.G99/he-thong"] == ["part-status"]
    assert lien_thong["operations"][0]["path"] == "/parts/{reference}/status" and lien_thong["local"] is True

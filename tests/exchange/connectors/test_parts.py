"""The part protocol's contract without the network: the shipped JSON Schemas are valid draft
2020-12 and strict, the registry files load the four ministries' services and the rights their
systems need to call us back, a part the schema refuses is named field by field in Vietnamese,
and the simulators start without Django."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
from django.db import transaction

from chinhquyenso.core.errors import DomainError
from chinhquyenso.exchange import connectors
from chinhquyenso.exchange.bus import registry
from chinhquyenso.exchange.connectors import parts
from chinhquyenso.exchange.models import Message

pytestmark = pytest.mark.django_db

MINE = ("residence", "social_insurance", "civil_status", "edoc")


def schema_files():
    return sorted(p for name in MINE for p in (registry.SCHEMA_DIR / name).glob("*.json"))


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_schema_is_valid_draft_2020_12(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def good_part(**changes) -> dict:
    body = parts.part_body(
        procedure="residence.register",
        reference="P-0123456789",
        applicant={"full_name": "Trần Thị Mai", "id_number": "089190000123"},
        subject={"full_name": "Nguyễn Minh Khang", "birth_date": "2026-11-20", "gender": "Nam"},
        data={
            "birth_certificate_number": "125/2026",
            "residence_address": "Tổ 3, xã Kiến An, tỉnh An Giang",
            "household_head_id": "089085000456",
        },
    )
    body.update(changes)
    return body


def refusal(body, connector="residence") -> tuple[str, str]:
    with pytest.raises(DomainError) as refused:
        parts.validate(connector, "submit", body)
    return refused.value.field, refused.value.message


def test_a_good_part_passes_and_names_our_callback_service(settings):
    parts.validate("residence", "submit", good_part())  # the shipped file: the registry is empty
    assert good_part()["callback"] == {"service": "VN/GOV/000.00.00.H01/mot-cua/lien-thong"}
    assert parts.callback_service() == registry.self_service("mot-cua", "lien-thong")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"procedure": "residence.move"},
            "procedure",
            "thủ tục phải là một trong: residence.register, residence.remove",
        ),
        ({"reference": "có dấu"}, "reference", "mã phần hồ sơ không đúng định dạng"),
        ({"applicant": {"full_name": "A"}}, "applicant.id_number", "thiếu số định danh cá nhân"),
        ({"subject": {"full_name": "B", "gender": "Nam"}}, "subject.birth_date", "thiếu ngày sinh"),
        ({"subject": {"full_name": "B", "birth_date": "2026-11-20", "gender": "nam"}}, "subject.gender", "Nam, Nữ"),
        ({"subject": {"full_name": "B", "birth_date": "20/11/2026", "gender": "Nam"}}, "subject.birth_date", "ngày"),
        ({"data": {"household_head_id": "089085000456"}}, "data.birth_certificate_number", "thiếu số giấy khai sinh"),
        ({"extra": 1}, "extra", "có trường không được phép “extra”"),
    ],
)
def test_a_bad_part_is_named_field_by_field_in_vietnamese(change, field, words):
    body = good_part(**change)
    if "data" in change:
        body["data"] = {**change["data"], "residence_address": "Tổ 3, xã Kiến An"}
    found, message = refusal(body)
    assert found == field
    assert message.startswith("Phần hồ sơ gửi Hệ thống quản lý cư trú (Bộ Công an) chưa hợp lệ: ")
    assert words in message


def test_the_removal_needs_the_deceased_id_and_the_death_certificate():
    body = good_part(
        procedure="residence.remove", subject={"full_name": "Lê Văn Hùng"}, data={"death_date": "2026-01-02"}
    )
    assert refusal(body)[0] in ("subject.id_number", "data.death_certificate_number")


def test_the_province_edited_schema_is_the_one_applied(db):
    registry.load_defaults()
    from chinhquyenso.exchange.models import BusOperation

    operation = BusOperation.objects.get(service__code="cu-tru", code="submit")
    operation.request_schema = {**operation.request_schema, "properties": {**operation.request_schema["properties"]}}
    operation.request_schema["properties"]["reference"] = {"type": "string", "pattern": "^P-[0-9]{10}$"}
    operation.save()
    registry.invalidate()
    parts.validate("residence", "submit", good_part())
    assert refusal(good_part(reference="P-ABCDEFGHIJ"))[0] == "reference"


def test_a_refused_part_queues_nothing_and_an_unknown_connector_is_refused(db):
    registry.load_defaults()
    with pytest.raises(DomainError), transaction.atomic():
        parts.submit_part(
            connector="residence",
            procedure="residence.register",
            reference="P-0123456789",
            applicant={"full_name": "Trần Thị Mai", "id_number": "089190000123"},
            subject={"full_name": "Nguyễn Minh Khang"},
            data={},
            correlation="x",
            order_key="x",
            kind="tests.part_send",
        )
    with pytest.raises(DomainError) as unknown, transaction.atomic():
        parts.submit_part(
            connector="population",
            procedure="x",
            reference="P-0123456789",
            applicant={},
            subject={},
            data={},
            correlation="x",
            order_key="x",
            kind="tests.part_send",
        )
    assert unknown.value.field == "connector"
    assert not Message.objects.exists()


def test_the_registry_files_load_the_ministries_and_their_callback_rights(db):
    registry.load_defaults()
    registry.invalidate()
    for name in MINE:
        service = registry.resolve(connectors.service_id(name))
        assert service is not None and not service.local, name
        assert service.allows(connectors.client_for(name), service.operations[0].code)
    lien_thong = registry.resolve(parts.callback_service())
    for name in ("residence", "social_insurance"):
        caller = connectors.service_id(name).rsplit("/", 1)[0]
        assert lien_thong.allows(caller, "part-status")
    van_ban_den = registry.resolve(f"{connectors.client_id('van-ban')}/van-ban-den")
    assert van_ban_den.local and {op.code for op in van_ban_den.operations} == {"receive", "ack"}
    assert van_ban_den.allows("VN/GOV/000.00.00.G22/vbdt", "receive")
    # Loading again changes nothing (idempotent).
    assert not any(registry.load_defaults().values())


def test_the_simulators_start_without_django():
    code = (
        "import sys\n"
        "import chinhquyenso.exchange.connectors.simulators.residence\n"
        "import chinhquyenso.exchange.connectors.simulators.social_insurance\n"
        "import chinhquyenso.exchange.connectors.simulators.civil_status\n"
        "import chinhquyenso.exchange.connectors.simulators.edoc\n"
        "print(sorted(m for m in sys.modules if m == 'django.db' or m.startswith('django.apps')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={})
    assert out.stdout.strip() == "[]"

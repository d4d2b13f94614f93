"""The registry loader (shipped files → rows, idempotent, edits kept unless --replace), the
`$self` member linked to the province, and the per-process snapshot cache."""

import json

import pytest
from django.conf import settings

from chinhquyenso.core.models import AuditRecord
from chinhquyenso.exchange.bus import registry
from chinhquyenso.exchange.models import BusAccessRight, BusMember, BusOperation, BusService, BusSubsystem

pytestmark = pytest.mark.django_db


def test_loads_the_shipped_files_once(province, admin_user):
    counts = registry.load_defaults(actor=admin_user)
    assert counts["members"] >= 1 and counts["services"] >= 2 and counts["operations"] >= 1
    assert registry.load_defaults() == dict.fromkeys(counts, 0)
    me = BusMember.objects.get(member_class="GOV", code=settings.CQS["BUS_MEMBER_CODE"])
    assert me.name == "Ủy ban nhân dân tỉnh"
    assert me.agency.code == "ubnd-tinh"  # the province's root agency
    assert {s.code for s in me.subsystems.all()} >= {"mot-cua", "thanh-toan", "van-ban"}
    part = BusOperation.objects.get(service__code="lien-thong", code="part-status")
    assert (part.method, part.path) == ("POST", "/parts/{reference}/status")
    assert part.request_schema["required"] == ["request_id", "reference", "status", "at"]
    service = registry.resolve(registry.self_service("mot-cua", "lien-thong"))
    assert service.local and service.operation("part-status").request_schema == part.request_schema
    record = AuditRecord.objects.get(action="bus.registry.load")
    assert record.actor == admin_user and record.after["operations"] == counts["operations"]


def test_edits_are_kept_unless_replaced(db):
    registry.load_defaults()
    operation = BusOperation.objects.get(service__code="lien-thong", code="part-status")
    operation.name = "Tên tỉnh tự đặt"
    operation.save()
    subsystem = BusSubsystem.objects.get(code="mot-cua")
    subsystem.name = "Một cửa của tỉnh"
    subsystem.save()
    assert registry.load_defaults()["updated"] == 0
    operation.refresh_from_db()
    assert operation.name == "Tên tỉnh tự đặt"
    assert registry.load_defaults(replace=True)["updated"] == 2
    operation.refresh_from_db()
    subsystem.refresh_from_db()
    assert operation.name == "Báo trạng thái, kết quả phần hồ sơ liên thông"
    assert subsystem.name.startswith("Hệ thống thông tin giải quyết")


def _write(directory, name, data):
    (directory / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_files_are_merged_and_rights_granted(db, tmp_path):
    schemas = registry.SCHEMA_DIR
    assert (schemas / "lien-thong/part-status.request.json").is_file()
    _write(
        tmp_path,
        "a.json",
        {
            "members": [
                {
                    "class": "GOV",
                    "code": "$self",
                    "name": "Tỉnh",
                    "subsystems": [{"code": "mot-cua", "name": "Một cửa"}],
                }
            ]
        },
    )
    _write(
        tmp_path,
        "b.json",
        {
            "members": [
                {
                    "class": "GOV",
                    "code": "000.00.00.G99",
                    "name": "Bộ thử",
                    "subsystems": [
                        {
                            "code": "he-thong",
                            "name": "Hệ thống của bộ",
                            "address_setting": "TEST_BASE_URL",
                            "services": [
                                {
                                    "code": "tra-cuu",
                                    "name": "Tra cứu",
                                    "operations": [
                                        {"code": "get", "name": "Lấy", "method": "get", "path": "/x/{id}"},
                                        {"code": "put", "name": "Ghi", "method": "PUT", "path": "/x/{id}"},
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
            "access": [
                {"client": "$self/mot-cua", "service": "GOV/000.00.00.G99/he-thong/tra-cuu", "operations": "*"},
                {
                    "client": "GOV/000.00.00.G99/he-thong",
                    "service": "GOV/000.00.00.G99/he-thong/tra-cuu",
                    "operations": ["get"],
                },
            ],
        },
    )
    counts = registry.load_defaults(directory=tmp_path)
    assert counts == {"members": 2, "subsystems": 2, "services": 1, "operations": 2, "access_rights": 2, "updated": 0}
    service = registry.resolve("VN/GOV/000.00.00.G99/he-thong/tra-cuu")
    me = registry.self_subsystem("mot-cua")
    assert service.allows(me, "put") and service.allows(me, "get")
    assert service.allows("VN/GOV/000.00.00.G99/he-thong", "get")
    assert not service.allows("VN/GOV/000.00.00.G99/he-thong", "put")
    assert service.address == ""  # TEST_BASE_URL not configured
    assert BusAccessRight.objects.filter(operation__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"members": [{"class": "XYZ", "code": "a"}]}, "loại thành viên"),
        ({"members": [{"class": "GOV", "code": "a b"}]}, "mã thành viên"),
        (
            {
                "members": [
                    {
                        "class": "GOV",
                        "code": "a",
                        "subsystems": [
                            {
                                "code": "s",
                                "services": [
                                    {
                                        "code": "v",
                                        "operations": [
                                            {
                                                "code": "o",
                                                "method": "GET",
                                                "path": "/",
                                                "request_schema": "../../x.json",
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ]
            },
            "ngoài thư mục",
        ),
        (
            {
                "members": [
                    {
                        "class": "GOV",
                        "code": "a",
                        "subsystems": [
                            {
                                "code": "s",
                                "services": [
                                    {
                                        "code": "v",
                                        "operations": [
                                            {
                                                "code": "o",
                                                "method": "GET",
                                                "path": "/",
                                                "request_schema": "khong/co.json",
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ]
            },
            "không có tệp lược đồ",
        ),
        ({"access": [{"client": "GOV/khong/co", "service": "GOV/a/b/c"}]}, "không có hệ thống gọi"),
    ],
)
def test_a_bad_file_is_named_with_its_problem(db, tmp_path, data, words):
    _write(tmp_path, "sai.json", data)
    with pytest.raises(registry.RegistryFileError) as error:
        registry.load_defaults(directory=tmp_path)
    assert "sai.json" in error.value.message and words in error.value.message


def test_resolve_is_cached_and_follows_changes(db, django_assert_num_queries):
    registry.load_defaults()
    service_id = registry.self_service("mot-cua", "lien-thong")
    assert registry.resolve(service_id) is not None
    with django_assert_num_queries(0):
        for _ in range(10):
            registry.resolve(service_id)
            registry.client(registry.self_subsystem("mot-cua"))
        assert registry.resolve(service_id + "-khong-co") is None
    service = BusService.objects.get(code="lien-thong")
    service.name = "Đổi tên"
    service.save()  # any save of a registry row invalidates this process's snapshot
    assert registry.resolve(service_id).name == "Đổi tên"
    service.active = False
    service.save()
    assert registry.resolve(service_id) is None


def test_other_processes_see_changes_within_the_check_interval(db, monkeypatch):
    registry.load_defaults()
    service_id = registry.self_service("mot-cua", "lien-thong")
    assert registry.resolve(service_id).timeout == 5
    BusService.objects.filter(code="lien-thong").update(timeout_seconds=7)  # as if another process did it
    assert registry.resolve(service_id).timeout == 5
    monkeypatch.setitem(settings.CQS, "BUS_REGISTRY_CHECK_SECONDS", 0)
    assert registry.resolve(service_id).timeout == 7


def test_ids():
    member = settings.CQS["BUS_MEMBER_CODE"]
    assert registry.full_id("$self/mot-cua") == f"VN/GOV/{member}/mot-cua"
    assert registry.full_id("GOV/000.00.00.G06/cu-tru/cu-tru") == "VN/GOV/000.00.00.G06/cu-tru/cu-tru"
    assert registry.full_id("VN/GOV/x/y") == "VN/GOV/x/y"
    assert registry.self_service("mot-cua", "lien-thong") == f"VN/GOV/{member}/mot-cua/lien-thong"


def test_the_province_administrator_edits_the_registry_in_the_admin(province, admin_user, client):
    from chinhquyenso.exchange.bus import keys

    registry.load_defaults()
    client.force_login(admin_user)
    subsystem = BusSubsystem.objects.get(code="mot-cua")
    _, cert_pem = keys.generate_identity("mot-cua")
    url = f"/quan-tri/exchange/bussubsystem/{subsystem.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = {
        "member": subsystem.member_id,
        "code": "mot-cua",
        "name": subsystem.name,
        "local": "on",
        "base_url": "",
        "address_setting": "",
        "certificate": "không phải PEM",
        "active": "on",
        "services-TOTAL_FORMS": "0",
        "services-INITIAL_FORMS": "0",
        "services-MIN_NUM_FORMS": "0",
        "services-MAX_NUM_FORMS": "1000",
    }
    # The inline's existing rows must be posted back as they are.
    services = list(subsystem.services.all())
    form["services-TOTAL_FORMS"] = form["services-INITIAL_FORMS"] = str(len(services))
    for i, service in enumerate(services):
        form.update(
            {
                f"services-{i}-id": service.pk,
                f"services-{i}-subsystem": subsystem.pk,
                f"services-{i}-code": service.code,
                f"services-{i}-version": service.version,
                f"services-{i}-name": service.name,
                f"services-{i}-timeout_seconds": service.timeout_seconds,
                f"services-{i}-active": "on",
            }
        )
    answer = client.post(url, form)
    assert answer.status_code == 200 and "Chứng thư số không đọc được" in answer.content.decode()
    assert registry.client(subsystem.identifier).thumbprint == ""
    form["certificate"] = cert_pem
    answer = client.post(url, form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert registry.client(subsystem.identifier).thumbprint == keys.thumbprint(cert_pem)
    record = AuditRecord.objects.get(action="exchange.bussubsystem.update")
    assert record.after["fields"]["certificate"] == f"x5t#S256={keys.thumbprint(cert_pem)}"
    for page in ("busmember", "busservice", "busaccessright"):
        assert client.get(f"/quan-tri/exchange/{page}/").status_code == 200


def test_a_provider_address_follows_its_setting_without_a_registry_change(db, monkeypatch):
    registry.load_defaults()
    service = registry.resolve("VN/GOV/000.00.00.G22/paygov/thanh-toan")
    monkeypatch.setitem(settings.CQS, "PAYMENT_BASE_URL", "http://127.0.0.1:9/")
    assert registry.resolve(service.id).address == "http://127.0.0.1:9"
    monkeypatch.setitem(settings.CQS, "PAYMENT_BASE_URL", "http://127.0.0.1:10")
    assert registry.resolve(service.id).address == "http://127.0.0.1:10"

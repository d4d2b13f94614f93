"""The national connectors on the data bus: the services this province calls and who calls them.

`SERVICES` holds each connector's service id *without* the bus instance (as in the registry files
under `connectors/registry/`); `service_id(name)` gives the full id (`<instance>/…`) the gateway
takes, `client_id(code)` the full id of one of this province's own subsystems (`mot-cua`,
`thanh-toan`, `van-ban`). The member codes (000.00.00.G06 …) are illustrative placeholders: the
real electronic codes are set when the province connects, as data in the registry files."""

from __future__ import annotations

# Django is imported inside the functions: the simulators (connectors.simulators) import this
# package's children as plain Python processes, without Django.

SERVICES = {
    # Bộ Công an — Cơ sở dữ liệu quốc gia về dân cư
    "population": "GOV/000.00.00.G06/csdl-dan-cu/dan-cu",
    # Văn phòng Chính phủ — Cổng Dịch vụ công quốc gia
    "national_portal": "GOV/000.00.00.G22/cong-dvcqg/dvcqg",
    # Nền tảng thanh toán trực tuyến (PayGov) trên Cổng Dịch vụ công quốc gia
    "payment": "GOV/000.00.00.G22/paygov/thanh-toan",
    # Bộ Tư pháp — Cơ sở dữ liệu hộ tịch điện tử
    "civil_status": "GOV/000.00.00.G07/ho-tich/ho-tich",
    # Bộ Công an — Hệ thống quản lý cư trú
    "residence": "GOV/000.00.00.G06/cu-tru/cu-tru",
    # Bảo hiểm xã hội Việt Nam
    "social_insurance": "GOV/000.00.00.G15/bhxh/bhxh",
    # Trục liên thông văn bản quốc gia
    "edoc": "GOV/000.00.00.G22/vbdt/van-ban",
    # Trung tâm Chứng thực điện tử quốc gia — cổng ký số từ xa (eSign)
    "esign": "GOV/000.00.00.G12/esign/ky-so",
}

# Which of our subsystems calls each connector.
CLIENTS = {
    "population": "mot-cua",
    "national_portal": "mot-cua",
    "payment": "thanh-toan",
    "civil_status": "mot-cua",
    "residence": "mot-cua",
    "social_insurance": "mot-cua",
    "edoc": "van-ban",
    "esign": "van-ban",
}


def member_id() -> str:
    """This province's bus member: `<instance>/GOV/<CQS BUS_MEMBER_CODE>`."""
    from django.conf import settings

    from chinhquyenso.exchange.bus import ids

    return f"{ids.instance()}/GOV/{settings.CQS.get('BUS_MEMBER_CODE', '000.00.00.H01')}"


def service_id(name: str) -> str:
    """The full bus id of connector `name` (a key of SERVICES), with this installation's instance."""
    from chinhquyenso.exchange.bus import ids

    return f"{ids.instance()}/{SERVICES[name]}"


def client_id(subsystem_code: str) -> str:
    """The full bus id of one of this province's subsystems (`mot-cua`, `thanh-toan`, `van-ban`)."""
    return f"{member_id()}/{subsystem_code}"


def client_for(name: str) -> str:
    """The subsystem of ours that calls connector `name`."""
    return client_id(CLIENTS[name])

import json
import logging.config
import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from chinhquyenso.core import simulators
from chinhquyenso.core.logs import logging_config
from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.demo.services import account_lines
from chinhquyenso.org.models import Agency

DEMO_DOSSIERS = 20000
DEMO_LOG = "logs/demo.log"  # under CQS_DATA_DIR


def log_to_file() -> str:
    """Send this process's log lines, and (through CQS_LOG_FILE) the worker's, to the demo's
    log file; the console keeps warnings and errors. An operator's own CQS_LOG_FILE wins."""
    if settings.LOG_FILE:
        return str(settings.LOG_FILE)
    path = settings.DATA_DIR / DEMO_LOG
    os.environ["CQS_LOG_FILE"] = str(path)  # read by the worker's settings
    logging.config.dictConfig(logging_config(path))
    return str(path)


def start_vneid_simulator(out):
    """Sign-in with VNeID in the demo: without CQS_OIDC_* set, the VNeID simulator
    (accounts.oidc_simulator) runs beside the server and the platform is pointed at it."""
    from chinhquyenso.accounts import oidc
    from chinhquyenso.accounts.oidc_simulator import spawn

    if oidc.is_configured():
        return None

    client_id, secret = "cqs-demo", "cqs-demo-" + os.urandom(8).hex()
    try:
        process, url = spawn("--client-id", client_id, "--client-secret", secret)
    except (OSError, RuntimeError):
        out.write("Không chạy được máy mô phỏng VNeID; trang đăng nhập chỉ có tên đăng nhập và mật khẩu.")
        return None
    settings.CQS.update(
        OIDC_DISCOVERY_URL=f"{url}/.well-known/openid-configuration",
        OIDC_CLIENT_ID=client_id,
        OIDC_CLIENT_SECRET=secret,
    )
    out.write(f"VNeID mô phỏng (đăng nhập công dân bằng số định danh bất kỳ gồm 12 chữ số): {url}")
    return process


# The settings the simulators' start set in this process, passed on to the worker's environment
# (the worker delivers the bus's queued calls, e.g. dossier statuses to the national portal).
SIMULATOR_SETTINGS: dict[str, object] = {}
CONNECTED = ("bus", "http")  # an adapter an operator pointed at a real system: no simulator is started


def _configure(**values) -> None:
    from chinhquyenso.exchange.bus import registry as bus_registry

    settings.CQS.update(values)
    SIMULATOR_SETTINGS.update(values)
    bus_registry.invalidate()  # the providers' addresses are read from these settings


def simulator_environment() -> dict[str, str]:
    """CQS_* variables for the worker: what the simulators' start configured in this process (a list,
    such as the signing trust roots, joined like PATH: settings.py splits it back)."""
    from chinhquyenso.demo.signing import environment_value

    return {f"CQS_{key}": environment_value(value) for key, value in SIMULATOR_SETTINGS.items()}


def start_pki_services(out):
    """Digital signatures in the demo: unless an operator set CQS_SIGNING_TSA_URL, the demo PKI's
    services process (signing.pki_server: RFC 3161 time stamps, OCSP, CRLs) runs beside the server, so
    that leaders and clerks sign PAdES-B-T and results are issued signed; the signing trust roots are
    the demo PKI's root unless an operator set them. Returns what stops it (its `close()`), or None."""
    import contextlib

    from chinhquyenso.demo import signing as demo_signing

    if settings.CQS.get("SIGNING_TSA_URL"):
        return None
    pki = demo_signing.load_demo_pki()
    if pki is None:
        out.write(
            "Chưa có PKI thử nghiệm trong thư mục dữ liệu (CSDL dựng trước khi có chữ ký số hoặc với --no-documents): "
            "ký số và trả kết quả điện tử có chữ ký không dùng được."
        )
        return None
    stack = contextlib.ExitStack()
    try:
        url = stack.enter_context(demo_signing.running_pki_services(pki))
    except (OSError, RuntimeError):
        out.write("Không chạy được dịch vụ PKI thử nghiệm (dấu thời gian, OCSP, CRL); ký số PAdES-B-T sẽ lỗi.")
        return None
    values = demo_signing.signing_settings(pki, url)
    if settings.CQS.get("SIGNING_TRUST_ROOTS"):
        values.pop("SIGNING_TRUST_ROOTS")  # an operator's trust roots win
    _configure(**values)
    out.write(
        f"Dịch vụ PKI thử nghiệm (dấu thời gian RFC 3161, OCSP, CRL; chỉ để trình diễn, thư mục {pki.directory}): {url}"
    )
    return stack


def _simulator_files() -> Path:
    folder = Path(settings.DATA_DIR) / "simulators"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_json(path: Path, data) -> str:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # the simulator re-reads the file when it changes: never half-written
    return str(path)


def start_population_simulator(out):
    """The population database in the demo: unless an operator set CQS_POPULATION_ADAPTER, the population
    simulator (exchange.connectors.simulators.population) runs beside the server, reached over the data
    bus; the demo's registered citizens are written to its people file so that they verify."""
    if settings.CQS.get("POPULATION_ADAPTER") in CONNECTED:
        return None
    from chinhquyenso.accounts.models import User
    from chinhquyenso.exchange.connectors.simulators import invented_person
    from chinhquyenso.exchange.national.simulators import communes

    towns = communes()
    province = settings.CQS.get("PROVINCE_NAME", "")
    citizens = User.objects.filter(kind=User.Kind.CITIZEN).exclude(password__startswith="!").exclude(identity_number="")
    people = [
        invented_person(u.identity_number, communes=towns, province=province, full_name=u.full_name)
        for u in citizens.only("identity_number", "full_name").iterator()
    ]
    people_file = _write_json(_simulator_files() / "population-people.json", people)
    args = ["--people", people_file, "--province", province]
    for town in towns:
        args += ["--commune", town]
    try:
        process, url = simulators.spawn(
            "chinhquyenso.exchange.connectors.simulators.population", "POPULATION_SIMULATOR", *args
        )
    except (OSError, RuntimeError):
        out.write("Không chạy được máy mô phỏng CSDL quốc gia về dân cư; tra cứu công dân dùng bản mô phỏng nội bộ.")
        return None
    _configure(POPULATION_ADAPTER="bus", POPULATION_BASE_URL=url)
    out.write(f"CSDL quốc gia về dân cư mô phỏng (qua trục liên thông; số định danh tận cùng bằng 9: không có): {url}")
    return process


def start_national_portal_simulator(out):
    """The national portal in the demo: unless an operator set CQS_NATIONAL_PORTAL_ADAPTER, its simulator
    (exchange.connectors.simulators.national_portal) runs beside the server, its catalog the province's
    own, and every dossier's status changes are pushed to it over the data bus (CQS_NATIONAL_PORTAL_SYNC)."""
    if settings.CQS.get("NATIONAL_PORTAL_ADAPTER") in CONNECTED:
        return None
    from chinhquyenso.procedures.models import Procedure

    catalog = [
        {
            "code": p.code,
            "name": p.name,
            "field_code": p.field.code,
            "field_name": p.field.name,
            "service_level": p.service_level,
            "processing_days": p.processing_days,
            "fee": p.fee,
            "charge": p.charge,
        }
        for p in Procedure.objects.filter(is_active=True).select_related("field").order_by("code")
    ]
    catalog_file = _write_json(_simulator_files() / "national-portal-catalog.json", catalog)
    try:
        process, url = simulators.spawn(
            "chinhquyenso.exchange.connectors.simulators.national_portal",
            "NATIONAL_PORTAL_SIMULATOR",
            "--catalog",
            catalog_file,
        )
    except (OSError, RuntimeError):
        out.write("Không chạy được máy mô phỏng Cổng Dịch vụ công quốc gia; không đồng bộ trạng thái hồ sơ.")
        return None
    _configure(NATIONAL_PORTAL_ADAPTER="bus", NATIONAL_PORTAL_BASE_URL=url, NATIONAL_PORTAL_SYNC=True)
    out.write(f"Cổng Dịch vụ công quốc gia mô phỏng (nhận trạng thái hồ sơ qua trục liên thông): {url}")
    return process


def start_payment_simulator(out):
    """Online payment in the demo: unless an operator set CQS_PAYMENT_ADAPTER (bus, or the old value http),
    the payment platform simulator (payments.simulator) runs beside the server and the platform calls it
    over the data bus."""
    if settings.CQS.get("PAYMENT_ADAPTER") in CONNECTED:
        return None
    token, secret = "cqs-demo-" + os.urandom(8).hex(), "cqs-demo-" + os.urandom(16).hex()
    try:
        process, url = simulators.spawn(
            "chinhquyenso.payments.simulator", "PAYMENT_SIMULATOR", "--secret", secret, "--token", token
        )
    except (OSError, RuntimeError):
        out.write("Không chạy được máy mô phỏng nền tảng thanh toán; thanh toán trực tuyến dùng bản mô phỏng nội bộ.")
        return None
    _configure(PAYMENT_ADAPTER="bus", PAYMENT_BASE_URL=url, PAYMENT_TOKEN=token, PAYMENT_SECRET=secret)
    out.write(f"Nền tảng thanh toán mô phỏng (trang thanh toán có nút “Thanh toán” và “Hủy”): {url}")
    return process


# The ministries' systems in the demo (exchange.connectors.testing.SPECS), with the line the console shows.
MINISTRY_SIMULATORS = (
    (
        "residence",
        "Hệ thống quản lý cư trú (Bộ Công an)",
        "đăng ký, xóa đăng ký thường trú của hồ sơ liên thông; trả kết quả qua trục liên thông",
    ),
    (
        "social_insurance",
        "Hệ thống Bảo hiểm xã hội Việt Nam",
        "thẻ bảo hiểm y tế trẻ em dưới 6 tuổi, trợ cấp mai táng; trả kết quả qua trục liên thông",
    ),
    (
        "civil_status",
        "Cơ sở dữ liệu hộ tịch điện tử (Bộ Tư pháp)",
        "nhận các đăng ký khai sinh, khai tử, kết hôn đã hoàn thành",
    ),
    ("edoc", "Trục liên thông văn bản quốc gia", "gửi, nhận văn bản điện tử"),
)
# Seconds before each status change of a simulated ministry (processing, then done or refused):
# long enough to watch an interconnected application move on its timeline.
MINISTRY_DELAY_SECONDS = 5.0


def site_address(addr: str) -> str:
    """The demo web server's own root URL from runserver's `--addr` (`8000`, `0.0.0.0:8000`,
    `[::]:8000`, `127.0.0.1:8000`): where the simulators call this installation's bus (/r1/) back."""
    host, _, port = addr.rpartition(":")
    if not host:
        host, port = ("127.0.0.1", addr) if addr.isdigit() else (addr, "8000")
    host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}.get(host, host)
    return f"http://{host}:{port}"


def start_ministry_simulators(out, bus_url: str, *, delay: float = MINISTRY_DELAY_SECONDS) -> list:
    """The ministries' systems in the demo: the police's residence system, Vietnam Social Security, the
    civil-status database and the national e-document exchange, each a simulator process
    (exchange.connectors.testing.launch) unless an operator set its address (CQS_RESIDENCE_BASE_URL …).
    Each simulator's certificate is registered on its subsystem in this database's bus registry (load the
    registry first), so its calls back to `bus_url` + /r1/ (a part's status, a document delivered) are
    accepted; it accepts only calls signed by this installation's bus. Finished civil-status
    registrations are pushed to the civil-status simulator (CQS_CIVIL_STATUS_SYNC). Returns the running
    simulators (their `stop()` ends them)."""
    from chinhquyenso.core.errors import DomainError
    from chinhquyenso.exchange.connectors import testing

    started = []
    for name, system, what in MINISTRY_SIMULATORS:
        if settings.CQS.get(testing.SPECS[name].setting):
            continue  # an operator's endpoint: left alone
        try:
            simulator = testing.launch(name, bus_url=bus_url, delay=delay, configure=False, trust_bus=True)
        except (OSError, RuntimeError, DomainError):
            out.write(f"Không chạy được máy mô phỏng {system}; yêu cầu gửi hệ thống này qua trục liên thông sẽ lỗi.")
            continue
        _configure(**simulator.settings)
        if name == "civil_status":
            _configure(CIVIL_STATUS_SYNC=True)
        out.write(f"{system} mô phỏng ({what}): {simulator.url}")
        started.append(simulator)
    return started


class Command(BaseCommand):
    help = "Chạy bản trình diễn: tạo CSDL, dựng tỉnh mẫu nếu CSDL trống, chạy máy chủ web và tiến trình nền."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="Địa chỉ và cổng của máy chủ web (mặc định 127.0.0.1:8000)."
        )
        parser.add_argument(
            "--dossiers",
            type=int,
            default=DEMO_DOSSIERS,
            help=f"Số hồ sơ giả lập khi dựng tỉnh mẫu (mặc định {DEMO_DOSSIERS}).",
        )
        parser.add_argument("--no-server", action="store_true", help="Chỉ chuẩn bị dữ liệu, không chạy máy chủ.")

    def handle(self, *args, addr, dossiers, no_server, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not Agency.objects.exists():
            self.stdout.write(f"Đang dựng tỉnh mẫu An Giang ({dossiers} hồ sơ)…")
            call_command("seed_demo", dossiers=dossiers)
        else:
            self.stdout.write("CSDL đã có dữ liệu; giữ nguyên.\n" + "\n".join(account_lines()))
            # A database from before the data bus: the registry's missing rows are added, edits kept.
            from chinhquyenso.core.errors import DomainError
            from chinhquyenso.exchange.bus import registry as bus_registry

            try:
                bus_registry.load_defaults()
            except DomainError as error:
                self.stderr.write(f"Không nạp được danh mục trục liên thông: {error.message}")
        if no_server:
            return
        log_file = log_to_file()
        self.stdout.write(f"Nhật ký chi tiết của máy chủ web và tiến trình nền: {log_file}")
        SIMULATOR_SETTINGS.clear()
        vneid = start_vneid_simulator(self.stdout)
        payment = start_payment_simulator(self.stdout)
        population = start_population_simulator(self.stdout)
        portal = start_national_portal_simulator(self.stdout)
        pki_services = start_pki_services(self.stdout)
        # The ministries call this server's bus back (/r1/): they are given its own address.
        ministries = start_ministry_simulators(self.stdout, site_address(addr))
        # The worker delivers the bus's queued calls: it is pointed at the same simulators.
        os.environ.update(simulator_environment())
        # The worker's own output (not only its log lines) goes to the file too; its errors stay on screen.
        with open(log_file, "a", encoding="utf-8") as log:
            worker = subprocess.Popen([sys.executable, "-m", "chinhquyenso.cli", "worker"], stdout=log)
        self.stdout.write(self.style.SUCCESS(f"Mở trình duyệt: http://{addr}/   (API: http://{addr}/api/docs)"))
        # Stopped by SIGTERM (a service manager, `timeout`) as by Ctrl-C: the simulators below are stopped
        # and their temporary keys removed.
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", addr, use_reloader=False, insecure_serving=True)
        finally:
            signal.signal(signal.SIGTERM, previous)
            worker.terminate()
            if vneid is not None:
                vneid.terminate()
            for process in (payment, population, portal):
                if process is not None:
                    process.terminate()
            for simulator in ministries:
                simulator.stop()
            if pki_services is not None:
                pki_services.close()

"""`cqs demo`: what the console shows and where the detailed log goes.

The web server and the worker are replaced by stand-ins that log as they do
(runserver's request lines on django.server, the worker's INFO lines from its
own process); the rest of the command runs for real on the test database."""

import datetime as dt
import logging
import os
import subprocess
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from chinhquyenso.demo.management.commands import demo as demo_command
from tests.exchange.connectors.test_residence import KIND, received  # noqa: F401 (fixture)


@pytest.fixture
def console_and_log(monkeypatch, settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("CQS_LOG_FILE", raising=False)  # restored after the test
    started = []
    real_popen = subprocess.Popen

    class Worker:
        def __new__(cls, argv, **options):
            if argv[-1] != "worker":
                return real_popen(argv, **options)  # a ministry's simulator: a real process
            return super().__new__(cls)

        def __init__(self, argv, **options):
            started.append((argv, options, dict(os.environ)))
            # The worker is another process: it writes its INFO lines wherever its settings say.
            options["stdout"].write("Worker started\n")

        def terminate(self):
            pass

    def runserver(name, *args, **options):
        if name != "runserver":
            return call_command(name, *args, **options)
        logging.getLogger("django.server").info('"GET /can-bo/ HTTP/1.1" 200 4242')
        logging.getLogger("chinhquyenso.exchange").info("Đã gửi 12 thư")
        logging.getLogger("django.request").warning("Not Found: /khong-co/")

    monkeypatch.setattr(demo_command.subprocess, "Popen", Worker)
    monkeypatch.setattr(demo_command, "call_command", runserver)
    ministries = []

    def start_ministry_simulators(out, bus_url, **options):
        ministries.append((bus_url, real_start(out, bus_url, **options)))
        return ministries[-1][1]

    real_start = demo_command.start_ministry_simulators
    monkeypatch.setattr(demo_command, "start_ministry_simulators", start_ministry_simulators)
    environ = dict(os.environ)  # the demo hands the simulators' addresses to its worker through it
    # cqs demo reconfigures this process's logging; put back the very handlers it had, not new ones
    # from settings.LOGGING: those would write to this test's captured stderr, closed after it.
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    before = [(logger, logger.handlers[:], logger.level, logger.propagate, logger.disabled) for logger in loggers]
    # The national systems configured as in production, so `cqs demo` starts no simulator of its own
    # (tests/accounts/test_oidc.py and tests/payments/test_demo.py test that it does when unset), but
    # the ministries' four, started for real (test_the_demo_starts_the_ministries_simulators).
    settings.CQS = {
        **settings.CQS,
        "OIDC_DISCOVERY_URL": "https://sso.example.gov.vn/.well-known/openid-configuration",
        "OIDC_CLIENT_ID": "demo-test",
        "PAYMENT_ADAPTER": "http",
        "POPULATION_ADAPTER": "bus",
        "NATIONAL_PORTAL_ADAPTER": "bus",
    }
    yield started, ministries
    os.environ.clear()
    os.environ.update(environ)
    for logger, handlers, level, propagate, disabled in before:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def test_console_keeps_url_and_warnings_and_the_log_file_gets_the_info_lines(
    console_and_log, tmp_path, settings, capsys, db
):
    out = StringIO()
    # A small province: what is checked here is where the lines go, not the size of the demo.
    call_command("demo", dossiers=200, stdout=out)
    console = out.getvalue() + capsys.readouterr().err
    log_file = tmp_path / "logs" / "demo.log"
    assert f"Nhật ký chi tiết của máy chủ web và tiến trình nền: {log_file}" in console
    assert "Mở trình duyệt: http://127.0.0.1:8000/" in console
    assert "Not Found: /khong-co/" in console  # warnings stay on screen
    assert "GET /can-bo/" not in console and "Đã gửi 12 thư" not in console
    log = log_file.read_text(encoding="utf-8")
    assert "GET /can-bo/" in log and "Đã gửi 12 thư" in log and "Not Found: /khong-co/" in log
    # The worker's settings read CQS_LOG_FILE: its log lines and its output go to the same file.
    [(argv, options, environ)], ministries = console_and_log
    assert argv[-1] == "worker" and environ["CQS_LOG_FILE"] == str(log_file)
    assert "Worker started" in log
    the_demo_started_the_ministries_simulators(console, settings, environ, ministries)


def the_demo_started_the_ministries_simulators(console, settings, environ, ministries):
    """The police's residence system, Vietnam Social Security, the civil-status database and the
    e-document exchange ran beside the demo, configured for its web server and its worker."""
    from chinhquyenso.exchange.connectors import testing
    from chinhquyenso.exchange.models import BusSubsystem

    [(bus_url, ministries)] = ministries
    assert bus_url == "http://127.0.0.1:8000"  # the demo's own web server: the simulators call its /r1/ back
    assert [m.name for m in ministries] == ["residence", "social_insurance", "civil_status", "edoc"]
    lines = [
        "Hệ thống quản lý cư trú (Bộ Công an) mô phỏng",
        "Hệ thống Bảo hiểm xã hội Việt Nam mô phỏng",
        "Cơ sở dữ liệu hộ tịch điện tử (Bộ Tư pháp) mô phỏng",
        "Trục liên thông văn bản quốc gia mô phỏng",
    ]
    for simulator, line in zip(ministries, lines, strict=True):
        assert f"): {simulator.url}" in console and line in console
        setting = testing.SPECS[simulator.name].setting
        assert settings.CQS[setting] == environ[f"CQS_{setting}"] == simulator.url  # web server and worker
        assert simulator.process.args[simulator.process.args.index("--bus-url") + 1] == bus_url
        assert "--bus-cert" in simulator.process.args  # they take only calls signed by this installation
        # Its certificate is on its subsystem in the demo database's registry: its callbacks are accepted.
        [registered] = BusSubsystem.objects.filter(certificate=simulator.cert_pem)
        assert registered.code == testing.subsystem_id(simulator.name).rsplit("/", 1)[1]
        assert simulator.process.poll() is not None  # stopped with the demo
    assert settings.CQS["CIVIL_STATUS_SYNC"] is True and environ["CQS_CIVIL_STATUS_SYNC"] == "1"


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("0.0.0.0:8123", "http://127.0.0.1:8123"),
        ("8080", "http://127.0.0.1:8080"),
        ("[::]:8000", "http://[::1]:8000"),
        ("demo.local:9000", "http://demo.local:9000"),
    ],
)
def test_the_simulators_call_back_the_demo_servers_own_address(addr, url):
    assert demo_command.site_address(addr) == url


def test_an_operators_ministry_endpoint_is_left_alone(settings, db):
    settings.CQS = {**settings.CQS, "RESIDENCE_BASE_URL": "https://cutru.example.gov.vn/api"}
    demo_command.SIMULATOR_SETTINGS.clear()
    ministries = demo_command.start_ministry_simulators(StringIO(), "http://127.0.0.1:8000")
    try:
        assert "residence" not in [m.name for m in ministries] and len(ministries) == 3
        assert settings.CQS["RESIDENCE_BASE_URL"] == "https://cutru.example.gov.vn/api"
        assert "CQS_RESIDENCE_BASE_URL" not in demo_command.simulator_environment()
    finally:
        for simulator in ministries:
            simulator.stop()


def test_the_demo_ministries_answer_parts_and_call_its_bus_back(live_server, transactional_db, settings, received):  # noqa: F811
    """An interconnected part goes to the simulated police and social insurance over the bus; their
    signed callbacks come back through this installation's /r1/ (the live server) to the part-status
    handler (the recording stand-in of test_residence)."""
    from chinhquyenso.exchange import outbox
    from chinhquyenso.exchange.bus import registry
    from chinhquyenso.exchange.connectors import parts

    calls, _ = received
    registry.load_defaults()  # as seed-demo does, before the simulators start
    settings.CQS = {**settings.CQS}
    demo_command.SIMULATOR_SETTINGS.clear()
    ministries = {m.name: m for m in demo_command.start_ministry_simulators(StringIO(), live_server.url, delay=0.1)}
    try:
        mother = {"full_name": "Trần Thị Mai", "id_number": "089190000123", "relationship": "Mẹ"}
        child = {"full_name": "Nguyễn Minh Khang", "birth_date": dt.date.today().isoformat(), "gender": "Nam"}
        address = "Tổ 3, ấp Kiến Hưng, xã Kiến An, tỉnh An Giang"
        sent = {
            "residence": (
                "residence.register",
                {
                    "birth_certificate_number": "125/2026",
                    "residence_address": address,
                    "household_head_id": "089085000456",
                },
            ),
            "social_insurance": (
                "social_insurance.health_card_child",
                {"birth_certificate_number": "125/2026", "residence_address": address},
            ),
        }
        references = {}
        with transaction.atomic():
            for connector, (procedure, data) in sent.items():
                references[connector] = f"P-{uuid.uuid4().hex[:12]}"
                parts.submit_part(
                    connector=connector,
                    procedure=procedure,
                    reference=references[connector],
                    applicant=mother,
                    subject=child,
                    data=data,
                    correlation="G-DEMO",
                    order_key=f"group:G-DEMO-{connector}",
                    kind=KIND,
                )
        assert outbox.deliver_due() == (2, 0)
        for connector, reference in references.items():
            ministries[connector].wait_callbacks(status="done")
            # At least once: a callback whose handling was rolled back (SQLite's shared test
            # connection busy) is sent again and handled again; in order, each status once or more.
            statuses = [c["status"] for c in calls if c["reference"] == reference]
            assert [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]] == ["processing", "done"]
            assert {c["client"] for c in calls if c["reference"] == reference} == {ministries[connector].client_id}
    finally:
        for simulator in ministries.values():
            simulator.stop()

"""`cqs demo`: what the console shows and where the detailed log goes.

The web server and the worker are replaced by stand-ins that log as they do
(runserver's request lines on django.server, the worker's INFO lines from its
own process); the rest of the command runs for real on the test database."""

import logging
import os
from io import StringIO

import pytest
from django.core.management import call_command

from chinhquyenso.demo.management.commands import demo as demo_command


@pytest.fixture
def console_and_log(monkeypatch, settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("CQS_LOG_FILE", raising=False)  # restored after the test
    started = []

    class Worker:
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
    # cqs demo reconfigures this process's logging; put back the very handlers it had, not new ones
    # from settings.LOGGING: those would write to this test's captured stderr, closed after it.
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    before = [(logger, logger.handlers[:], logger.level, logger.propagate, logger.disabled) for logger in loggers]
    # The national systems configured as in production, so `cqs demo` starts no simulator of its own
    # (tests/accounts/test_oidc.py and tests/payments/test_demo.py test that it does when unset).
    settings.CQS = {
        **settings.CQS,
        "OIDC_DISCOVERY_URL": "https://sso.example.gov.vn/.well-known/openid-configuration",
        "OIDC_CLIENT_ID": "demo-test",
        "PAYMENT_ADAPTER": "http",
    }
    yield started
    for logger, handlers, level, propagate, disabled in before:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def test_console_keeps_url_and_warnings_and_the_log_file_gets_the_info_lines(console_and_log, tmp_path, capsys, db):
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
    [(argv, options, environ)] = console_and_log
    assert argv[-1] == "worker" and environ["CQS_LOG_FILE"] == str(log_file)
    assert "Worker started" in log

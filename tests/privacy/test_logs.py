"""No secret and no personal data in the server log by default: the console
SMS sender logs that a message went out, never a verification code or a
body; every log line and traceback goes through core.privacy's masking
formatter (settings LOGGING)."""

import logging
import sys

import pytest
from django.db import transaction

from chinhquyenso.core.privacy import MaskingFormatter
from chinhquyenso.exchange import outbox
from chinhquyenso.exchange.models import Message
from chinhquyenso.exchange.senders import ConsoleSmsSender
from chinhquyenso.feedback import services
from tests.conftest import vn

pytestmark = pytest.mark.django_db
PHONE = "0912345678"


@pytest.fixture(autouse=True)
def _sent():
    ConsoleSmsSender.sent.clear()
    yield
    ConsoleSmsSender.sent.clear()


def _send_code(caplog) -> str:
    caplog.set_level(logging.INFO, logger="chinhquyenso.exchange.senders")
    services.send_verification_code(PHONE, at=vn(2025, 3, 3, 8, 55))
    assert outbox.deliver_due(vn(2025, 3, 3, 8, 55)) == (1, 0)
    return ConsoleSmsSender.sent[-1][1].split(": ")[1][:6]


def test_the_console_sms_sender_never_logs_a_code(caplog):
    code = _send_code(caplog)
    assert code.isdigit() and len(code) == 6
    assert "SMS (thử nghiệm) tới *******678" in caplog.text and "mã bí mật, không ghi" in caplog.text
    assert code not in caplog.text and PHONE not in caplog.text


def test_a_developer_may_ask_for_bodies_which_are_still_masked(caplog, settings):
    settings.CQS = {**settings.CQS, "SMS_CONSOLE_BODIES": True}
    code = _send_code(caplog)
    assert code in caplog.text  # CQS_SMS_CONSOLE_BODIES=1: the code is readable in development
    with transaction.atomic():
        outbox.enqueue(
            channel=Message.Channel.SMS,
            kind="test.notice",
            recipient="0987654321",
            body="Cán bộ sẽ gọi lại số 0987 654 321 về CCCD 089012345678.",
        )
    assert outbox.deliver_due() == (1, 0)
    assert "09******21" in caplog.text and "*********678" in caplog.text
    for private in (PHONE, "0987654321", "0987 654 321", "089012345678"):
        assert private not in caplog.text


def test_log_lines_and_tracebacks_are_masked():
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, MaskingFormatter)]
    assert handlers, "settings.LOGGING must format the console handler with core.privacy.MaskingFormatter"
    # What PostgreSQL says about a duplicate, carried by the exception into the traceback.
    try:
        raise ValueError("duplicate key value violates unique constraint: Key (identity_number)=(089012345678)")
    except ValueError:
        record = logging.getLogger("test").makeRecord(
            "test",
            logging.ERROR,
            __file__,
            1,
            "import of %s failed for %s",
            ("nguoi.dan@gmail.com", "0912 345 678"),
            sys.exc_info(),
        )
    line = handlers[0].format(record)
    assert "089012345678" not in line and "*********678" in line
    assert "nguoi.dan@gmail.com" not in line and "n***@gmail.com" in line
    assert "0912 345 678" not in line and "09******78" in line

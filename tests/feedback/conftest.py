"""Feedback fixtures: the default categories, reference points for the two
communes of the test province, an IOC operator, leaders with e-mail
addresses, and a helper that files a report as a signed-in citizen."""

import dataclasses
import io

import pytest

from chinhquyenso.accounts import services as accounts
from chinhquyenso.accounts.models import GlobalRole, User
from chinhquyenso.exchange.models import Message
from chinhquyenso.exchange.senders import ConsoleSmsSender
from chinhquyenso.feedback import services
from chinhquyenso.feedback.models import AreaPoint
from tests.conftest import vn

# Kiến An and Kiến Thành (Chợ Mới): invented points ~7 km apart.
KIEN_AN = ("10.480000", "105.480000")
KIEN_THANH = ("10.430000", "105.520000")


@pytest.fixture
def categories(db, province, admin_user):
    """The default categories (data/categories.json); in the test province only
    Công an tỉnh exists of their fixed agencies, so the others route by level."""
    services.load_categories(actor=admin_user)
    from chinhquyenso.feedback.models import Category

    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def points(province):
    AreaPoint.objects.create(agency=province["xa_a"], latitude=KIEN_AN[0], longitude=KIEN_AN[1])
    AreaPoint.objects.create(agency=province["xa_b"], latitude=KIEN_THANH[0], longitude=KIEN_THANH[1])


@pytest.fixture
def ioc_operator(db, admin_user):
    user = accounts.create_officer(
        actor=admin_user,
        username="ioc.dieuphoi",
        password="Mat-khau-2025",
        full_name="Điều phối viên IOC",
        global_role=GlobalRole.IOC_OPERATOR,
    )
    User.objects.filter(pk=user.pk).update(email="ioc@angiang.gov.vn")
    user.refresh_from_db()
    return user


@pytest.fixture
def leader_emails(officers):
    """Leaders need an address to be told by e-mail."""
    for key, roles in officers.items():
        User.objects.filter(pk=roles["leader"].pk).update(email=f"lanhdao.{key}@angiang.gov.vn")
        roles["leader"].refresh_from_db()
    return officers


@pytest.fixture(autouse=True)
def _sms_outbox():
    """The SMS the console sender delivered (tests that run the outbox's delivery)."""
    ConsoleSmsSender.sent.clear()
    yield ConsoleSmsSender.sent
    ConsoleSmsSender.sent.clear()


def sms_written(phone: str = "") -> list[tuple[str, str]]:
    """(number, text) of the SMS written into the outbox, oldest first (delivered after commit)."""
    texts = Message.objects.filter(channel=Message.Channel.SMS).order_by("id")
    if phone:
        texts = texts.filter(recipient=phone)
    return list(texts.values_list("recipient", "body"))


def code_sent(phone: str = "") -> str:
    """The verification code in the last SMS written to the phone."""
    return sms_written(phone)[-1][1].split(": ")[1][:6]


REPORT_FIELDS = {f.name for f in dataclasses.fields(services.Submission)}


def file_report(**fields):
    """services.submit from one flat set of keyword arguments: the report's
    fields (services.Submission) and the transport facts (reporter, channel, at…)."""
    report = services.Submission(**{k: v for k, v in fields.items() if k in REPORT_FIELDS})
    return services.submit(report, **{k: v for k, v in fields.items() if k not in REPORT_FIELDS})


@pytest.fixture
def report(categories, points, citizen):
    """file(**overrides) → a report by the signed-in citizen, in Kiến An, Monday 03/3/2025 09:00."""

    def file(**overrides):
        data = {
            "category_code": "moi-truong",
            "description": "Rác thải đổ bừa bãi ven kênh, bốc mùi hôi thối.",
            "area_code": "xa-kien-an",
            "reporter": citizen,
            "email": "hoa@example.vn",
            "channel": "web",
            "at": vn(2025, 3, 3, 9),
        }
        data.update(overrides)
        return file_report(**data)

    return file


def jpeg(*, gps: bool = False, orientation: int | None = None, size=(32, 24), color=(200, 30, 30)) -> bytes:
    """A small JPEG, optionally with an EXIF GPS position and orientation."""
    from PIL import Image

    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "Test camera"  # Make
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (10.0, 28.0, 48.0), 3: "E", 4: (105.0, 28.0, 48.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 128, 0, 255)).save(out, format="PNG")
    return out.getvalue()

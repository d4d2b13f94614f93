"""In-process stand-ins of the national systems: a TEST CONVENIENCE, not connectors.

The adapter setting value `simulator` (the default of CQS_POPULATION_ADAPTER,
CQS_NATIONAL_PORTAL_ADAPTER, CQS_PAYMENT_ADAPTER) picks them so that the unit
tests of other features need no process and no bus. They never pass the data
bus: nothing is logged, signed or access-checked. The demo and production use
`bus` (exchange.national.http over exchange.bus.gateway), with the simulator
processes of exchange.connectors.simulators (and payments.simulator) in the
demo and the tests of the connectors. Conventions, relied on by tests (also
listed in docs/national-systems.md):

Population database (SimulatedPopulationRegistry.lookup):
- an ID starting with 000000 simulates an outage: NationalSystemError;
- a registered citizen account of this installation (kind citizen, with a
  password) is known with the account's name, as if the national database had
  the same people. Accounts the counter created from typed data (no password)
  do not count: typed data must never verify itself;
- any other 12-digit ID not ending in 9 is a deterministic made-up person
  (same ID → same name, birth date, gender; the function is shared with the
  population simulator process: connectors.simulators.invented_person);
- IDs ending in 9, or not 12 digits, are "not found" (None).

National portal (SimulatedNationalPortal):
- fetch_catalog returns this installation's active procedures in the wire
  format, as if the national catalog held the same procedures;
- push_dossier_status checks its arguments like the real service would and
  keeps the pushes on the instance (`pushed`), for tests.

Payment platform (SimulatedPaymentGateway, in-process; the demo and the payment
tests run the simulator process chinhquyenso.payments.simulator instead):
- create_payment gives a deterministic reference "SIM" + 12 hex digits of the
  order reference (a retry gets the same one) and, as pay URL, the return URL
  when one is given (the payment is settled at once), else a local path;
- an order reference ending in "-pending" or "-failed" gives a payment that
  stays in that status; every other SIM reference is "paid"; an unknown
  reference raises NationalSystemError like the real service's 404;
- there is no statement (reconciliation says so)."""

import datetime as dt
import hashlib

from django.conf import settings

from chinhquyenso.exchange.connectors.simulators import OUTAGE_PREFIX, invented_person, well_formed
from chinhquyenso.exchange.national.base import NationalSystemError, PaymentInfo, PaymentIntent, Person, StatementLine


def communes() -> list[str]:
    """The installation's current communes and wards, as a resident's address names them ("xã Kiến An"):
    the registry's addresses name one, so the portal can preselect the agency from them."""
    from chinhquyenso.org.models import Agency, AgencyKind

    names = (
        Agency.objects.current()
        .filter(kind=AgencyKind.COMMUNE_COMMITTEE)
        .order_by("code")
        .values_list("name", flat=True)
    )
    return [name.removeprefix("UBND ") for name in names]


class SimulatedPopulationRegistry:
    """A test convenience, not a connector: answers in-process, reading our own database."""

    def lookup(self, identity_number: str) -> Person | None:
        from chinhquyenso.accounts.models import User

        identity_number = (identity_number or "").replace(" ", "")
        if identity_number.startswith(OUTAGE_PREFIX):
            raise NationalSystemError(
                "Không kết nối được Cơ sở dữ liệu quốc gia về dân cư (mô phỏng sự cố); hãy thử lại sau."
            )
        if not well_formed(identity_number):
            return None
        user = User.objects.filter(identity_number=identity_number, kind=User.Kind.CITIZEN).first()
        registered = user is not None and user.has_usable_password()
        if identity_number.endswith("9") and not registered:
            return None
        # A registered citizen is known by their account's name; the rest is invented the same way for
        # everyone (the same function as the population simulator process's).
        data = invented_person(
            identity_number,
            communes=communes(),
            province=settings.CQS["PROVINCE_NAME"],
            full_name=user.full_name if registered else "",
        )
        return Person(
            identity_number,
            data["full_name"],
            birth_date=dt.date.fromisoformat(data["birth_date"]),
            gender=data["gender"],
            address=data["address"],
        )


class SimulatedNationalPortal:
    def __init__(self):
        self.pushed: list[dict] = []

    def fetch_catalog(self) -> list[dict]:
        from chinhquyenso.procedures.models import Procedure

        return [
            {
                "code": p.code,
                "name": p.name,
                "field_code": p.field.code,
                "field_name": p.field.name,
                "service_level": p.service_level,
                "processing_days": p.processing_days,
            }
            for p in Procedure.objects.filter(is_active=True).select_related("field").order_by("code")
        ]

    def push_dossier_status(self, *, dossier_code: str, status: str, at: dt.datetime, agency_code: str) -> None:
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        if not dossier_code or not status or not agency_code:
            # The real portal answers 400: a missing code or status is our bug, not an outage.
            raise NationalSystemError(
                "Cổng Dịch vụ công quốc gia từ chối yêu cầu (thiếu mã hồ sơ, trạng thái hoặc mã định danh cơ quan)."
            )
        self.pushed.append({"dossier_code": dossier_code, "status": status, "at": at, "agency_code": agency_code})


class SimulatedPaymentGateway:
    """In-process stand-in kept for unit tests and a development server without the simulator
    process: no pay page (the "pay URL" is the return URL: the payment is settled at once) and no
    statement. The demo and the payment tests run the real simulator process instead
    (python -m chinhquyenso.payments.simulator, CQS_PAYMENT_ADAPTER=bus)."""

    def create_payment(
        self, *, order_ref: str, amount: int, description: str, return_url: str = "", callback_url: str = ""
    ) -> PaymentIntent:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValueError("amount must be a positive whole number of đồng")
        digest = hashlib.sha256(order_ref.encode()).hexdigest()[:12].upper()
        # The outcome rides in the reference so that payment_status needs no stored state.
        outcome = next((s for s in ("pending", "failed") if order_ref.endswith(f"-{s}")), "paid")
        ref = f"SIM{digest}" + {"paid": "", "pending": "P", "failed": "F"}[outcome]
        return PaymentIntent(transaction_ref=ref, amount=amount, pay_url=return_url or f"/thanh-toan/mo-phong/{ref}")

    def payment_status(self, transaction_ref: str) -> str:
        if not (
            transaction_ref.startswith("SIM")
            and len(transaction_ref) in (15, 16)
            and all(c in "0123456789ABCDEF" for c in transaction_ref[3:15])
        ):
            raise NationalSystemError("Nền tảng thanh toán trực tuyến (PayGov) không tìm thấy giao dịch này.")
        return {"P": "pending", "F": "failed"}.get(transaction_ref[15:], "paid")

    def payment_info(self, transaction_ref: str) -> PaymentInfo:
        return PaymentInfo(transaction_ref=transaction_ref, status=self.payment_status(transaction_ref))

    def statement(self, day: dt.date) -> list[StatementLine]:
        raise NationalSystemError(
            "Trình mô phỏng trong tiến trình không có sao kê; hãy chạy trình mô phỏng nền tảng thanh toán "
            "(python -m chinhquyenso.payments.simulator) và đặt CQS_PAYMENT_ADAPTER=bus."
        )

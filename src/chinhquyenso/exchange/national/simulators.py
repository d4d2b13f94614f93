"""Local simulators of the national systems, for tests and the demo.

The population simulator knows every citizen account in this installation
(as if the national database had the same people) plus deterministic people
for IDs whose last digit is not 9; IDs ending in 9 are "not found", and IDs
starting with 000000 simulate an outage."""

import hashlib

from chinhquyenso.exchange.national.base import NationalSystemError, PaymentIntent, Person

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Đặng", "Bùi", "Đỗ"]
GIVEN = ["Văn An", "Thị Bình", "Minh Châu", "Thị Diễm", "Quốc Huy", "Thị Lan", "Hoàng Nam", "Thị Ngọc", "Thanh Tâm", "Văn Phúc"]


class SimulatedPopulationRegistry:
    def lookup(self, identity_number: str) -> Person | None:
        from chinhquyenso.accounts.models import User

        if identity_number.startswith("000000"):
            raise NationalSystemError("Không kết nối được Cơ sở dữ liệu quốc gia về dân cư (mô phỏng sự cố).")
        user = User.objects.filter(identity_number=identity_number).first()
        if user:
            return Person(identity_number, user.full_name)
        if not identity_number.isdigit() or identity_number.endswith("9"):
            return None
        h = int(hashlib.sha256(identity_number.encode()).hexdigest(), 16)
        return Person(identity_number, f"{SURNAMES[h % 10]} {GIVEN[(h // 10) % 10]}")


class SimulatedNationalPortal:
    pushed: list = []

    def fetch_catalog(self) -> list[dict]:
        return []

    def push_dossier_status(self, *, dossier_code, status, at, agency_code) -> None:
        return None


class SimulatedPaymentGateway:
    def create_payment(self, *, order_ref: str, amount: int, description: str) -> PaymentIntent:
        ref = "SIM" + hashlib.sha256(order_ref.encode()).hexdigest()[:12].upper()
        return PaymentIntent(transaction_ref=ref, amount=amount, pay_url=f"/thanh-toan/mo-phong/{ref}")

    def payment_status(self, transaction_ref: str) -> str:
        return "paid" if transaction_ref.startswith("SIM") else "failed"

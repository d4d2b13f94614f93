"""Verifications per caller address per minute: the page /xac-thuc/ and POST /api/signatures/verify are
open to anyone, and each one parses and checks an uploaded PDF (tens of milliseconds of CPU, more for a
large file), so one address may not make the server do it without bound:
CQS["SIGNING_VERIFY_PER_IP_PER_MINUTE"], counted by core.throttle."""

from chinhquyenso.core.throttle import PerMinute

VERIFICATIONS = PerMinute(
    name="signing:verify",
    setting="SIGNING_VERIFY_PER_IP_PER_MINUTE",
    default=20,
    message="Bạn đã kiểm tra quá nhiều tệp trong một phút; vui lòng chờ một chút rồi thử lại.",
    field="file",
)

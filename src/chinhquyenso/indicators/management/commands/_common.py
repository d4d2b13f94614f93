"""Shared argument handling for the indicator commands."""

import datetime as dt

from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.indicators.periods import Period, parse_period, period_of_dates


def period_from(options) -> Period:
    try:
        if options.get("period"):
            return parse_period(options["period"])
        if options.get("from") and options.get("to"):
            return period_of_dates(dt.date.fromisoformat(options["from"]), dt.date.fromisoformat(options["to"]))
    except ValueError:
        raise CommandError("Ngày phải viết dạng YYYY-MM-DD.") from None
    except DomainError as error:
        raise CommandError(error.message) from None
    raise CommandError("Cần --period (ví dụ 2024-Q3, 2024-9M) hoặc --from YYYY-MM-DD --to YYYY-MM-DD.")


def add_period_arguments(parser) -> None:
    parser.add_argument("--period", help="2024-M03, 2024-Q3, 2024-H1, 2024-9M, 2024 hoặc 2024-01-01..2024-09-30")
    parser.add_argument("--from", dest="from", help="Ngày đầu kỳ YYYY-MM-DD")
    parser.add_argument("--to", dest="to", help="Ngày cuối kỳ YYYY-MM-DD")
    parser.add_argument("--agency", help="Mã cơ quan (mặc định: toàn tỉnh)")
    parser.add_argument("--json", action="store_true", help="In JSON")

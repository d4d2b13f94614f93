"""Shared argument handling for the indicator commands."""

import datetime as dt

from django.core.management.base import CommandError

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.text import format_number
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


def scope_from(computation, options, period):
    """What the figures cover: --agency alone, or with --with-subordinates;
    the province without --agency."""
    from chinhquyenso.indicators.selectors import scope_of

    if options.get("with_subordinates") and not options.get("agency"):
        raise CommandError("--with-subordinates chỉ dùng cùng --agency.")
    scope = scope_of(computation, options.get("agency") or "", with_subordinates=bool(options.get("with_subordinates")))
    if scope is None:
        raise CommandError(f"Không có cơ quan mã «{options['agency']}» trong kỳ {period.label}.")
    return scope


def scope_line(scope) -> str:
    """One line saying which agencies the figures cover."""
    from chinhquyenso.indicators.selectors import PROVINCE

    if scope.unit_id == PROVINCE:
        return f"Phạm vi: toàn tỉnh ({format_number(len(scope.units))} cơ quan)."
    unit, others = scope.units[0], scope.units[1:]
    if not scope.with_subordinates:
        return f"Phạm vi: riêng {unit.name} (không gồm cơ quan cấp dưới; thêm --with-subordinates để tính cả)."
    if not others:
        return f"Phạm vi: {unit.name} (không có cơ quan cấp dưới)."
    return f"Phạm vi: {unit.name} và {len(others)} cơ quan cấp dưới: {', '.join(u.name for u in others)}."


def add_period_arguments(parser) -> None:
    parser.add_argument("--period", help="2024-M03, 2024-Q3, 2024-H1, 2024-9M, 2024 hoặc 2024-01-01..2024-09-30")
    parser.add_argument("--from", dest="from", help="Ngày đầu kỳ YYYY-MM-DD")
    parser.add_argument("--to", dest="to", help="Ngày cuối kỳ YYYY-MM-DD")
    parser.add_argument(
        "--agency", help="Mã cơ quan (mặc định: toàn tỉnh). Chỉ tính riêng cơ quan đó, trừ khi có --with-subordinates"
    )
    parser.add_argument(
        "--with-subordinates",
        action="store_true",
        help="Với --agency: tính cả các cơ quan cấp dưới (theo tổ chức cuối kỳ). Mặc định: không, chỉ riêng cơ quan đó",
    )
    parser.add_argument("--json", action="store_true", help="In JSON")

"""`cqs kpi --from … --to … [--agency CODE] [--json]`: every indicator with
its numerator, denominator and value."""

import json

from django.core.management.base import CommandError

from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number
from chinhquyenso.indicators.management.commands._common import add_period_arguments, period_from
from chinhquyenso.indicators.selectors import PROVINCE, compute, find_unit


def _number(value) -> str:
    if value is None:
        return "—"
    return format_number(value, 0 if value == value.to_integral() else 2)


class Command(BaseCommand):
    help = "In mọi chỉ tiêu tính từ dữ liệu (tử số, mẫu số, giá trị) cho toàn tỉnh hoặc một cơ quan."

    def add_arguments(self, parser):
        add_period_arguments(parser)

    def handle(self, *args, **options):
        period = period_from(options)
        computation = compute(period)
        unit_id, name = PROVINCE, "Toàn tỉnh"
        if options["agency"]:
            unit = find_unit(computation, options["agency"])
            if unit is None:
                raise CommandError(f"Không có cơ quan mã «{options['agency']}» trong kỳ {period.label}.")
            unit_id, name = unit.id, unit.name
        values = [computation.values[unit_id][i.code] for i in computation.applicable(unit_id)]
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "period": {
                            "code": period.code,
                            "label": period.label,
                            "start": period.start.isoformat(),
                            "end": period.end.isoformat(),
                        },
                        "agency": options["agency"] or None,
                        "agency_name": name,
                        "indicators": [v.as_dict() for v in values],
                    },
                    ensure_ascii=False,
                    indent=1,
                )
            )
            return
        self.stdout.write(f"{name} — {period.label} ({period.start:%d/%m/%Y}–{period.end:%d/%m/%Y})")
        for v in values:
            version = f" [công thức v{v.formula_version}]" if v.formula_version else ""
            self.stdout.write(
                f"  {v.code:<36} {v.display:>14}  = {_number(v.numerator)} / {_number(v.denominator)}"
                f"  {v.name}{version}"
            )

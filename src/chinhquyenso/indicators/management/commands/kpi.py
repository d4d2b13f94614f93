"""`cqs kpi --from … --to … [--agency CODE [--with-subordinates]] [--json]`:
every indicator with its value, numerator and denominator in their units."""

import json

from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.indicators.management.commands._common import (
    add_period_arguments,
    period_from,
    scope_from,
    scope_line,
)
from chinhquyenso.indicators.selectors import compute


class Command(BaseCommand):
    help = (
        "In mọi chỉ tiêu (giá trị, tử số, mẫu số kèm đơn vị) cho toàn tỉnh hoặc một cơ quan. "
        "Với --agency chỉ tính riêng cơ quan đó; thêm --with-subordinates để tính cả các cơ quan cấp dưới."
    )

    def add_arguments(self, parser):
        add_period_arguments(parser)

    def handle(self, *args, **options):
        period = period_from(options)
        computation = compute(period)
        scope = scope_from(computation, options, period)
        table = scope.values(computation)
        values = [table[i.code] for i in computation.applicable(scope.unit_id)]
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
                        "agency_name": scope.name,
                        **scope.as_dict(),
                        "indicators": [v.as_dict() for v in values],
                    },
                    ensure_ascii=False,
                    indent=1,
                )
            )
            return
        self.stdout.write(f"{scope.name} — {period.label} ({period.start:%d/%m/%Y}–{period.end:%d/%m/%Y})")
        self.stdout.write(scope_line(scope))
        for v in values:
            version = f" [công thức v{v.formula_version}]" if v.formula_version else ""
            detail = "; ".join(part for part in (v.fraction, v.missing_text) if part)
            detail = f"  ({detail})" if detail and detail != v.display else ""
            self.stdout.write(f"  {v.code:<36} {v.display:>16}{detail}  {v.name}{version}")

"""`cqs index766 --period … [--agency CODE] [--json]`: the QĐ 766 index with
each sub-indicator's points and the data behind them."""

import json

from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number
from chinhquyenso.indicators.assessments import (
    index766,
    index766_codes,
    index766_dict,
    index766_summary,
    rule_groups,
    score_index766,
)
from chinhquyenso.indicators.management.commands._common import (
    add_period_arguments,
    period_from,
    scope_from,
    scope_line,
)
from chinhquyenso.indicators.selectors import compute


def _points(value) -> str:
    return "—" if value is None else format_number(value, 2)


class Command(BaseCommand):
    help = (
        "Tính Bộ chỉ số 766 (5 nhóm, 100 điểm) cho toàn tỉnh hoặc một cơ quan. "
        "Với --agency chỉ tính riêng cơ quan đó; thêm --with-subordinates để tính cả các cơ quan cấp dưới."
    )

    def add_arguments(self, parser):
        add_period_arguments(parser)

    def handle(self, *args, **options):
        period = period_from(options)
        computation = compute(period, codes=index766_codes())
        scope = scope_from(computation, options, period)
        if scope.with_subordinates:  # the province, or an agency with its subordinates
            result = index766(computation, scope.unit_id)
        else:
            result = score_index766(rule_groups(), scope.values(computation), scope.name)
        if options["json"]:
            body = {**index766_dict(result, period), **scope.as_dict()}
            self.stdout.write(json.dumps(body, ensure_ascii=False, indent=1))
            return
        self.stdout.write(f"Bộ chỉ số 766 — {result.unit_name} — {period.label}")
        self.stdout.write(scope_line(scope))
        for group in result.groups:
            self.stdout.write(f"{group.group.name}: {_points(group.points)}/{_points(group.group.max_points)} điểm")
            for score in group.rules:
                v = score.value
                data = (
                    f"{v.display} = {format_number(v.numerator or 0, 0)}/{format_number(v.denominator or 0, 0)}"
                    if v and v.value is not None
                    else "chưa có số liệu"
                )
                self.stdout.write(
                    f"  {score.rule.name}: {_points(score.points)}/{_points(score.rule.max_points)} "
                    f"({data}; {score.explanation})"
                )
        self.stdout.write(f"Tổng: {index766_summary(result)}")

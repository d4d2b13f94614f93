"""`cqs index766 --period … [--agency CODE] [--json]`: the QĐ 766 index with
each sub-indicator's points and the data behind them."""

import json

from django.core.management.base import CommandError

from chinhquyenso.core.management.base import BaseCommand
from chinhquyenso.core.text import format_number
from chinhquyenso.indicators.assessments import index766, index766_codes, index766_dict
from chinhquyenso.indicators.management.commands._common import add_period_arguments, period_from
from chinhquyenso.indicators.selectors import PROVINCE, compute, find_unit


def _points(value) -> str:
    return "—" if value is None else format_number(value, 2)


class Command(BaseCommand):
    help = "Tính Bộ chỉ số 766 (5 nhóm, 100 điểm) cho toàn tỉnh hoặc một cơ quan."

    def add_arguments(self, parser):
        add_period_arguments(parser)

    def handle(self, *args, **options):
        period = period_from(options)
        computation = compute(period, codes=index766_codes())
        unit_id = PROVINCE
        if options["agency"]:
            unit = find_unit(computation, options["agency"])
            if unit is None:
                raise CommandError(f"Không có cơ quan mã «{options['agency']}» trong kỳ {period.label}.")
            unit_id = unit.id
        result = index766(computation, unit_id)
        if options["json"]:
            self.stdout.write(json.dumps(index766_dict(result, period), ensure_ascii=False, indent=1))
            return
        self.stdout.write(f"Bộ chỉ số 766 — {result.unit_name} — {period.label}")
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
        self.stdout.write(
            f"Tổng: {_points(result.points)}/{_points(result.max_points)} điểm"
            f" (các chỉ số có số liệu: tối đa {_points(result.scored_max)} điểm)"
        )

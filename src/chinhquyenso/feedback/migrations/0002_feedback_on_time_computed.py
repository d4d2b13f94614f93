# An installation whose indicator registry was loaded before this module
# existed has "feedback handled on time" as a value agencies report (LRIS).
# This module computes it: switch the indicator to computed with its formula;
# values reported so far are kept. (`cqs load-indicators` leaves existing
# indicators as the province edited them, so it cannot make this change.)

import datetime as dt

from django.db import migrations


def forwards(apps, schema_editor):
    Indicator = apps.get_model("indicators", "Indicator")
    FormulaVersion = apps.get_model("indicators", "FormulaVersion")
    indicator = Indicator.objects.filter(code="feedback_on_time_rate", source="reported").first()
    if indicator is None:
        return
    indicator.source = "computed"
    indicator.save(update_fields=["source"])
    if not FormulaVersion.objects.filter(indicator=indicator).exists():
        FormulaVersion.objects.create(
            indicator=indicator,
            version=1,
            valid_from=dt.date(2000, 1, 1),
            numerator="feedback_resolved_on_time",
            denominator="feedback_resolved",
            scale=100,
            note="Tính từ phân hệ phản ánh, kiến nghị.",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_initial"),
        ("indicators", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

"""An e-government criterion may name the figure the platform computes for it (issue 21: the
documents exchanged electronically feed the e-government assessment), used for an agency wherever
it has data in the period. An installation whose registry is already loaded gets the one shipped
pairing here, when both rows exist; load_registry adds it otherwise. Self-contained: the codes are
a copy of registry.json at this change."""

import django.db.models.deletion
from django.db import migrations, models

SHIPPED = {"van-ban-dien-tu": "documents_electronic_exchange_rate"}


def pair_computed_indicators(apps, schema_editor):
    EGovCriterion = apps.get_model("indicators", "EGovCriterion")
    Indicator = apps.get_model("indicators", "Indicator")
    for code, indicator_code in SHIPPED.items():
        indicator = Indicator.objects.filter(code=indicator_code).first()
        if indicator is not None:
            EGovCriterion.objects.filter(code=code, computed_indicator__isnull=True).update(
                computed_indicator=indicator
            )


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0005_index766_online_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="egovcriterion",
            name="computed_indicator",
            field=models.ForeignKey(
                blank=True,
                help_text="Cơ quan có số liệu của chỉ tiêu này trong kỳ được đánh giá theo số liệu này; "
                "cơ quan chưa có thì theo chỉ tiêu ở trên.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="indicators.indicator",
                verbose_name="chỉ tiêu tính từ hệ thống",
            ),
        ),
        migrations.RunPython(pair_computed_indicators, migrations.RunPython.noop),
    ]

"""At most one default licence (a partial unique index on is_default = true). An installation whose
administrators had marked several keeps the one datasets were already given (`_licence` picked the
first by the model's ordering: default first, then by title) and the others lose the flag. The licence
code accepts dots (CKAN's license_id "cc-by-4.0"), which the slug field refused in the admin."""

import django.core.validators
from django.db import migrations, models


def keep_one_default(apps, schema_editor):
    Licence = apps.get_model("opendata", "Licence")
    defaults = list(Licence.objects.filter(is_default=True).order_by("title", "id").values_list("id", flat=True))
    if len(defaults) > 1:
        Licence.objects.filter(pk__in=defaults[1:]).update(is_default=False)


class Migration(migrations.Migration):
    dependencies = [("opendata", "0003_field_names")]

    operations = [
        migrations.AlterField(
            model_name="licence",
            name="code",
            field=models.CharField(
                max_length=40,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9][a-z0-9._-]*\\Z",
                        "Mã giấy phép chỉ gồm chữ thường không dấu, chữ số, dấu chấm, dấu gạch dưới hoặc gạch ngang.",
                    )
                ],
                verbose_name="mã",
            ),
        ),
        migrations.RunPython(keep_one_default, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="licence",
            constraint=models.UniqueConstraint(
                condition=models.Q(is_default=True),
                fields=("is_default",),
                name="opendata_licence_one_default",
                violation_error_message="Chỉ một giấy phép được là giấy phép mặc định.",
            ),
        ),
    ]

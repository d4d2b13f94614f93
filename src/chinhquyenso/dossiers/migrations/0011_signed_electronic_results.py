import base64
import secrets

import django.db.models.deletion
from django.db import migrations, models

import chinhquyenso.dossiers.models


def give_each_result_a_code(apps, schema_editor):
    """Results issued before signing existed get their own random code (one per row: a column
    default would give every row the same one)."""
    ElectronicResult = apps.get_model("dossiers", "ElectronicResult")
    for result in ElectronicResult.objects.filter(verification_code__isnull=True).only("pk").iterator():
        code = base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()
        ElectronicResult.objects.filter(pk=result.pk).update(verification_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0010_interconnected_parts"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="electronicresult",
            name="verification_code",
            field=models.CharField(editable=False, max_length=40, null=True, verbose_name="mã xác thực"),
        ),
        migrations.RunPython(give_each_result_a_code, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="electronicresult",
            name="verification_code",
            field=models.CharField(
                default=chinhquyenso.dossiers.models.new_verification_code,
                editable=False,
                max_length=40,
                unique=True,
                verbose_name="mã xác thực",
            ),
        ),
        migrations.AddField(
            model_name="electronicresult",
            name="signed",
            field=models.BooleanField(default=False, verbose_name="đã ký số"),
        ),
        migrations.AddField(
            model_name="electronicresult",
            name="signature_status",
            field=models.CharField(
                choices=[("valid", "Đã ký số, chữ ký hợp lệ"), ("unsigned", "Chưa ký số")],
                default="unsigned",
                max_length=20,
                verbose_name="tình trạng chữ ký khi cấp",
            ),
        ),
        migrations.AddField(
            model_name="electronicresult",
            name="signed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="thời điểm ký"),
        ),
        migrations.AddField(
            model_name="electronicresult",
            name="agency",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.agency",
                verbose_name="cơ quan cấp",
            ),
        ),
    ]

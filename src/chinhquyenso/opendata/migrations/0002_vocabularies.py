"""The shipped licences and themes (opendata/data/vocabularies.json). Only missing rows are added, so
running it on a database the province has already edited keeps those edits."""

from django.db import migrations


def load_vocabularies(apps, schema_editor):
    from chinhquyenso.opendata.vocabularies import load

    load(apps.get_model("opendata", "Licence"), apps.get_model("opendata", "Theme"))


class Migration(migrations.Migration):
    dependencies = [("opendata", "0001_initial")]

    operations = [migrations.RunPython(load_vocabularies, migrations.RunPython.noop)]

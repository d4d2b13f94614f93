# Facts are derived data (rebuilt by `cqs rebuild-facts`): the old grain is
# dropped rather than converted.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("indicators", "0002_assessment_source")]
    operations = [migrations.DeleteModel(name="DossierFact")]

from django.db import migrations


def load(apps, schema_editor):
    from adapter import catalogue

    catalogue.load(apps.get_model("adapter", "ServiceRequestVariant"))


class Migration(migrations.Migration):
    dependencies = [("adapter", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

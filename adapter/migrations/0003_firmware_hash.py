from django.db import migrations


def reload_catalogue(apps, schema_editor):
    # 11.3's parameter became firmware_hash (DUIS ActivateFirmware/FirmwareHash); the catalogue
    # loader updates changed SRVs in place.
    from adapter import catalogue

    catalogue.load(apps.get_model("adapter", "ServiceRequestVariant"))


class Migration(migrations.Migration):
    dependencies = [("adapter", "0002_load_catalogue")]
    operations = [migrations.RunPython(reload_catalogue, migrations.RunPython.noop)]

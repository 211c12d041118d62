"""The seed's measure table (DOMAIN.md section 5) and default credit terms for each provider."""
from django.db import migrations


def seed(apps, schema_editor):
    from slas.metrics import seed_rows

    Measure = apps.get_model("slas", "Measure")
    ProviderTerms = apps.get_model("slas", "ProviderTerms")
    for row in seed_rows():
        Measure.objects.get_or_create(code=row["code"], measurement_type=row["measurement_type"], defaults=row)
    for provider in ("DSP", "CSP_NORTH", "CSP_CENTRAL", "CSP_SOUTH"):
        ProviderTerms.objects.get_or_create(provider=provider)


class Migration(migrations.Migration):
    dependencies = [("slas", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

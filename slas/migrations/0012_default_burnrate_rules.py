"""The default multi-window burn-rate rules (slas.burnrate.DEFAULT_RULES: the SRE workbook's and
Pyrra's 1 h/5 min at 14.4x, 6 h/30 min at 6x, 1 day/2 h at 3x and 3 days/6 h at 1x), each for every
measure. Until now no rule shipped, and the dashboard said nothing was burning while budgets stood
at 150-250 %. Rules an administrator already made are kept; created by name, so it runs twice
harmlessly. Going back removes only the default rules nobody has changed."""
from django.db import migrations


def create(apps, schema_editor):
    from slas.burnrate import ensure_default_rules

    ensure_default_rules(apps.get_model("slas", "BurnRateRule"))


def remove(apps, schema_editor):
    from slas.burnrate import DEFAULT_RULES

    Rule = apps.get_model("slas", "BurnRateRule")
    for name, long_minutes, short_minutes, threshold in DEFAULT_RULES:
        Rule.objects.filter(name=name, measure_code="", long_window_minutes=long_minutes,
                            short_window_minutes=short_minutes, threshold=threshold, episodes__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("slas", "0011_incident_measures"),
    ]

    operations = [migrations.RunPython(create, remove)]

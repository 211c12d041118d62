"""Burn-rate rules and episodes move from portal to slas, their rows kept.

The tables were portal_burnraterule and portal_burnrateepisode. This migration first takes the
models into slas's state on those very tables (no SQL), then renames the tables to slas's names,
then repoints their content types (app_label portal -> slas), so audit entries and permissions
keep pointing at the same rows. portal's 0003 removes the models from portal's state only; it
runs after this one (``run_before``), so the tables are never dropped, from an empty database or
an existing one, whichever app is migrated first. The dependency is declared here, in the feature
app, so the ground's migrations name no feature app.
"""
import django.db.models.deletion
from django.db import migrations, models

MODELS = ("burnraterule", "burnrateepisode")


def content_types_to(source, target):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for model in MODELS:
            if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
                continue  # already moved (or created afresh by a migrate that ran in between)
            ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)

    return move


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0002_notifications_webhooks_search"),
        ("slas", "0009_summary_tidy"),
    ]
    run_before = [
        ("portal", "0003_burnrate_to_slas"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BurnRateRule",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("measure_code", models.CharField(blank=True, help_text="Service measure code (e.g. PM1.1); blank: every measure", max_length=40)),
                        ("short_window_minutes", models.PositiveIntegerField(default=60)),
                        ("long_window_minutes", models.PositiveIntegerField(default=360)),
                        ("threshold", models.DecimalField(decimal_places=2, default=14.4, help_text="Burn rate (multiple of the budgeted miss rate) that warns", max_digits=6)),
                        ("min_requests", models.PositiveIntegerField(default=20, help_text="Ignore windows with fewer measured requests")),
                        ("is_active", models.BooleanField(default=True)),
                    ],
                    options={
                        "ordering": ["name"],
                        "db_table": "portal_burnraterule",
                    },
                ),
                migrations.CreateModel(
                    name="BurnRateEpisode",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("measure_code", models.CharField(max_length=40)),
                        ("region", models.CharField(blank=True, max_length=10)),
                        ("state", models.CharField(choices=[("open", "Burning"), ("closed", "Over")], default="open", max_length=8)),
                        ("opened_at", models.DateTimeField()),
                        ("closed_at", models.DateTimeField(blank=True, null=True)),
                        ("short_rate", models.DecimalField(decimal_places=2, max_digits=10)),
                        ("long_rate", models.DecimalField(decimal_places=2, max_digits=10)),
                        ("details", models.JSONField(blank=True, default=dict, help_text="Misses and counts per window when it opened")),
                        ("rule", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="episodes", to="slas.burnraterule")),
                    ],
                    options={
                        "ordering": ["-opened_at"],
                        "db_table": "portal_burnrateepisode",
                        "constraints": [models.UniqueConstraint(condition=models.Q(("state", "open")), fields=("rule", "measure_code", "region"), name="burnrate_one_open_episode")],
                    },
                ),
            ],
            database_operations=[],
        ),
        # table=None: the default name for the app, slas_burnraterule / slas_burnrateepisode.
        migrations.AlterModelTable(name="burnraterule", table=None),
        migrations.AlterModelTable(name="burnrateepisode", table=None),
        migrations.RunPython(content_types_to("portal", "slas"), content_types_to("slas", "portal")),
    ]

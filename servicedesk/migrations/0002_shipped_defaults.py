"""The target time table, the desk policy and the reference counters, shipped with defaults to
be set by DCC (servicedesk/defaults.py): not regulation, and labelled so on every row."""
from django.db import migrations

from servicedesk.defaults import DEFAULT_POLICY, DEFAULT_TARGETS, DEFAULTS_NOTE

COUNTERS = ("incident", "problem", "service_alert", "maintenance")


def ship(apps, schema_editor):
    TargetTime = apps.get_model("servicedesk", "TargetTime")
    DeskPolicy = apps.get_model("servicedesk", "DeskPolicy")
    ReferenceCounter = apps.get_model("servicedesk", "ReferenceCounter")
    for category, (response, resolution, basis) in DEFAULT_TARGETS.items():
        TargetTime.objects.get_or_create(category=category, defaults={
            "response_minutes": response, "resolution_minutes": resolution, "basis": basis, "note": DEFAULTS_NOTE})
    DeskPolicy.objects.get_or_create(pk=1, defaults={**DEFAULT_POLICY, "note": DEFAULTS_NOTE})
    for name in COUNTERS:
        ReferenceCounter.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0001_initial")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]

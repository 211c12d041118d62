"""Incident measures: response and resolution within target per Incident Category (slas.incidents),
their category, and a rollup region long enough to hold a resolver's organisation code."""
from django.db import migrations, models


def seed(apps, schema_editor):
    from slas.metrics import incident_seed_rows

    Measure = apps.get_model("slas", "Measure")
    for row in incident_seed_rows():
        Measure.objects.get_or_create(code=row["code"], measurement_type=row["measurement_type"], defaults=row)


class Migration(migrations.Migration):

    dependencies = [
        ('slas', '0010_burnrate_from_portal'),
    ]

    operations = [
        migrations.AddField(
            model_name='measure',
            name='category',
            field=models.PositiveSmallIntegerField(blank=True, help_text='Incident measures: the Incident Category (1-5) timed', null=True),
        ),
        migrations.AlterField(
            model_name='measure',
            name='interval',
            field=models.CharField(choices=[('dsp_outbound', 'DSP outbound: t1 - max(t0, start_at)'), ('csp', 'CSP: (t4 - t1) - (t3 - t2)'), ('dsp_inbound', 'DSP inbound: t5 - t4'), ('dsp_total', 'DSP (DCC-only): t5 - max(t0, start_at)'), ('end_to_end', 'End-to-end: (t5 - start_at) - (t3 - t2)'), ('alert_csp', 'CSP alert leg: a2 - a1'), ('alert_dsp', 'DSP alert leg: a3 - a2'), ('alert_end_to_end', 'Alert end-to-end: a3 - a1'), ('incident_response', 'Incident response: raised to first response, less pauses (clock time)'), ('incident_resolution', 'Incident resolution: raised to resolved, less pauses (clock time)')], max_length=30),
        ),
        migrations.AlterField(
            model_name='measure',
            name='measurement_type',
            field=models.CharField(choices=[('on_demand', 'On-demand'), ('future_dated_ack', 'Future-dated (acknowledgement)'), ('future_dated_response', 'Future-dated (future response)'), ('firmware', 'Firmware delivery'), ('dcc_only', 'DCC-only'), ('dsp_scheduled', 'DSP-scheduled'), ('meter_scheduled', 'Meter-scheduled'), ('alert', 'Alert'), ('incident', 'Incident')], max_length=30),
        ),
        migrations.AlterField(
            model_name='measure',
            name='provider',
            field=models.CharField(choices=[('E2E', 'End-to-end'), ('DSP', 'DSP'), ('CSP', 'CSP'), ('RES', 'Incident resolver')], max_length=3),
        ),
        migrations.AlterField(
            model_name='dailyrollup',
            name='region',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name='monthrollup',
            name='region',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name='monthsummary',
            name='region',
            field=models.CharField(blank=True, help_text='CSP measures: the region; incident measures: the resolver; others blank', max_length=32),
        ),
        migrations.AlterField(
            model_name='requestfact',
            name='measurement_type',
            field=models.CharField(choices=[('on_demand', 'On-demand'), ('future_dated_ack', 'Future-dated (acknowledgement)'), ('future_dated_response', 'Future-dated (future response)'), ('firmware', 'Firmware delivery'), ('dcc_only', 'DCC-only'), ('dsp_scheduled', 'DSP-scheduled'), ('meter_scheduled', 'Meter-scheduled'), ('alert', 'Alert'), ('incident', 'Incident')], max_length=30),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]

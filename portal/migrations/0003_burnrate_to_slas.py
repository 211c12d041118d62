"""Burn-rate rules and episodes now belong to slas (slas 0010 took over their tables, renamed
them and moved their content types; it runs before this one). Here they leave portal's state
only: no table is dropped."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0002_notifications_webhooks_search"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="BurnRateEpisode"),
                migrations.DeleteModel(name="BurnRateRule"),
            ],
            database_operations=[],
        ),
    ]

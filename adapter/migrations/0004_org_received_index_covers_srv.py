# The index of a user's requests by receipt time also carries the SRV, so the monthly
# transactions report counts them by an index-only scan.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('adapter', '0003_firmware_hash'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='servicerequest',
            name='adapter_sr_org_received',
        ),
        migrations.AddIndex(
            model_name='servicerequest',
            index=models.Index(fields=['organisation', 'received_at', 'srv'], name='adapter_sr_org_received'),
        ),
    ]

"""manage.py load_catalogue [--file CSV]: create or update the SRV catalogue (idempotent)."""
from django.core.management.base import BaseCommand

from adapter import catalogue
from adapter.models import ServiceRequestVariant


class Command(BaseCommand):
    help = "Load the DUIS service request catalogue from its CSV (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(catalogue.CSV_PATH))

    def handle(self, *args, file, **options):
        created, updated = catalogue.load(ServiceRequestVariant, file)
        total = ServiceRequestVariant.objects.count()
        self.stdout.write(f"catalogue: {total} SRVs ({created} created, {updated} updated)")

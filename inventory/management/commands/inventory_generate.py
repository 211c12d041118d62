"""manage.py inventory_generate --count N [--supplier CODE ...]: add N devices fast (benchmarks)."""
import time

from django.core.management.base import BaseCommand, CommandError

from inventory.generate import generate
from portal.models import Organisation


class Command(BaseCommand):
    help = "Generate about N devices (whole premises: hub, GPF, meters, IHD, PPMID) with COPY on PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--supplier", nargs="*", default=None,
                            help="organisation codes (default: every service user)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, count, supplier=None, seed=1, **options):
        if count < 1:
            raise CommandError("--count must be at least 1")
        suppliers = Organisation.objects.filter(kind="service_user").order_by("code")
        if supplier:
            suppliers = suppliers.filter(code__in=supplier)
            missing = set(supplier) - set(suppliers.values_list("code", flat=True))
            if missing:
                raise CommandError(f"--supplier: no service user with code {', '.join(sorted(missing))}")
        suppliers = list(suppliers)
        if not suppliers:
            raise CommandError("no service users: run manage.py load_demo --only portal first")
        started = time.monotonic()
        written = generate(count, suppliers=suppliers, seed=seed)
        seconds = time.monotonic() - started
        self.stdout.write(f"{written} devices written in {seconds:.1f} s ({written / max(seconds, 1e-9):,.0f}/s)")

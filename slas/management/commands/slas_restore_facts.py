"""manage.py slas_restore_facts --month YYYY-MM: an archived month of facts back as its partitions."""
import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from slas import services


class Command(BaseCommand):
    help = "PostgreSQL: check an archived month's files against their SHA-256 and attach them again as partitions."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args, month, **options):
        try:
            first = dt.datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise CommandError(f"--month: {month!r} is not YYYY-MM") from None
        try:
            restored = services.facts_restore(month=first)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        for record in restored:
            self.stdout.write(f"restored {record.month:%Y-%m} {record.kind}: {record.rows} rows from {record.path}")

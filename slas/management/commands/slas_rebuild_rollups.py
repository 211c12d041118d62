"""manage.py slas_rebuild_rollups --month YYYY-MM: recompute a month's rollups from its facts."""
from django.core.management.base import BaseCommand, CommandError

from slas import metrics, rollups


class Command(BaseCommand):
    help = "Rebuild the daily and monthly rollups of a month from the facts (after a target or relief change)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM (London calendar month)")

    def handle(self, *args, month, **options):
        try:
            first = metrics.parse_month(month)
        except ValueError as exc:
            raise CommandError(f"--month: {exc}") from None
        rollups.rebuild_month(first)
        self.stdout.write(f"rollups of {first:%Y-%m} rebuilt")

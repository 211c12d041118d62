"""manage.py slas_freeze --month YYYY-MM: freeze a month now (what the schedule does on the first working day)."""
from django.core.management.base import BaseCommand, CommandError

from slas import metrics, services


class Command(BaseCommand):
    help = "Freeze a month: results, credits and one statement per service user. Running it twice issues nothing."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True)
        parser.add_argument("--no-notify", action="store_true")

    def handle(self, *args, month, no_notify=False, **options):
        try:
            first = metrics.parse_month(month)
        except ValueError as exc:
            raise CommandError(f"--month: {exc}") from None
        run, issued = services.month_freeze(month=first, notify=not no_notify)
        self.stdout.write(f"{first:%Y-%m}: run v{run.version}, {len(issued)} statements issued now")

"""manage.py slas_freeze --month YYYY-MM: freeze a month now (what the schedule does on the first working day)."""
from slas import services
from slas.management.month import MonthCommand


class Command(MonthCommand):
    help = "Freeze a month: results, credits and one statement per service user. Running it twice issues nothing."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--no-notify", action="store_true")

    def handle_month(self, first, no_notify=False, **options):
        run, issued = services.month_freeze(month=first, notify=not no_notify)
        self.stdout.write(f"{first:%Y-%m}: run v{run.version}, {len(issued)} statements issued now")

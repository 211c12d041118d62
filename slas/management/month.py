"""The base of the slas commands that work on one month (slas_freeze, slas_rebuild_rollups,
slas_report): one --month option, parsed one way, a bad value refused naming the option."""
from django.core.management.base import BaseCommand, CommandError

from slas import metrics


class MonthCommand(BaseCommand):
    """``--month YYYY-MM`` (required), parsed to the month's first day and passed to
    ``handle_month(first, **options)``; subclasses add their own options after ``super()``."""

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM (London calendar month)")

    def handle(self, *args, month, **options):
        try:
            first = metrics.parse_month(month)
        except ValueError as exc:
            raise CommandError(f"--month: {exc}") from None
        return self.handle_month(first, **options)

    def handle_month(self, first, **options):
        raise NotImplementedError

"""manage.py slas_rebuild_rollups --month YYYY-MM: recompute a month's rollups from its facts."""
from slas import rollups
from slas.management.month import MonthCommand


class Command(MonthCommand):
    help = "Rebuild the daily and monthly rollups of a month from the facts (after a target or relief change)."

    def handle_month(self, first, **options):
        rollups.rebuild_month(first)
        self.stdout.write(f"rollups of {first:%Y-%m} rebuilt")

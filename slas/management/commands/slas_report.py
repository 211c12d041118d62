"""manage.py slas_report --month YYYY-MM --format json: the month's report, from rollups."""
import json

from django.core.management.base import CommandError

from portal.models import Organisation
from slas import report
from slas.management.month import MonthCommand


class Command(MonthCommand):
    help = "Print the month's service measure report (measures, credits, statements); decimals as strings."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--format", default="json", choices=["json"])
        parser.add_argument("--organisation", help="a service user's code: the report over its own traffic")

    def handle_month(self, first, organisation=None, **options):
        org = None
        if organisation:
            org = Organisation.objects.filter(code=organisation).first()
            if org is None:
                raise CommandError(f"--organisation: no organisation with code {organisation!r}")
        self.stdout.write(json.dumps(report.as_json(report.build(first, org)), indent=2))

"""manage.py slas_import_facts --requests FILE --alerts FILE [--replace]: load measured facts from other systems.

On PostgreSQL each London month in a file is loaded into a fresh table and attached as the month's
partition (slas.facts); --replace replaces the months the files hold, in one transaction."""
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from slas import facts, services


class Command(BaseCommand):
    help = "Load request and alert facts (CSV, ISO 8601 times with offset). A file with any bad row loads nothing."

    def add_arguments(self, parser):
        parser.add_argument("--requests", help="CSV: " + ",".join(facts.REQUEST_FIELDS))
        parser.add_argument("--alerts", help="CSV: " + ",".join(facts.ALERT_FIELDS))
        parser.add_argument("--replace", action="store_true",
                            help="replace the months the files hold (facts and rollups) instead of adding to them")

    def handle(self, *args, requests=None, alerts=None, replace=False, **options):
        if not requests and not alerts:
            raise CommandError("give --requests FILE and/or --alerts FILE")
        started = time.monotonic()
        try:
            result = services.facts_import(requests=requests, alerts=alerts, replace=replace)
        except OSError as exc:
            raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from None
        except facts.FactsRejected as exc:
            for label, line, message in exc.errors:
                self.stdout.write(f"{label} line {line}: {message}")
            self.stdout.write("nothing loaded: fix the rows above and run again")
            sys.exit(1)
        seconds = time.monotonic() - started
        rows = result.requests + result.alerts
        self.stdout.write(f"loaded {result.requests} requests and {result.alerts} alerts in {seconds:.2f} s "
                          f"({rows / seconds if seconds else 0:,.0f} rows/s), rollups included")

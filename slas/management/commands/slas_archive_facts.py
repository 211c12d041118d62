"""manage.py slas_archive_facts [--older-than-months N]: months of facts out to archive files."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from slas import services


class Command(BaseCommand):
    help = ("PostgreSQL: detach each month of request and alert facts older than N whole months and archive it to "
            "a gzip CSV file with a SHA-256 checksum file (SLAS_FACT_ARCHIVE_DIR). Rollups and report summaries stay.")

    def add_arguments(self, parser):
        parser.add_argument("--older-than-months", type=int, default=settings.SLAS_FACT_RETENTION_MONTHS,
                            help="default SLAS_FACT_RETENTION_MONTHS (%(default)s; 0: off)")
        parser.add_argument("--folder", default=settings.SLAS_FACT_ARCHIVE_DIR, help="default %(default)s")

    def handle(self, *args, older_than_months, folder, **options):
        try:
            made = services.facts_archive(older_than_months=older_than_months, folder=folder)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        for record in made:
            self.stdout.write(f"archived {record.month:%Y-%m} {record.kind}: {record.rows} rows to {record.path} "
                              f"(sha256 {record.sha256})")
        self.stdout.write(f"{len(made)} month partitions archived")

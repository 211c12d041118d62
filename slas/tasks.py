"""Background work of the slas app (django-q2): the fold of adapter records and the month freeze."""
import logging

from django.conf import settings
from django.utils import timezone

from portal import calendar_uk
from slas import incidents, metrics, partitions, services

log = logging.getLogger(__name__)


def fold_facts():
    """Every minute: copy newly completed adapter requests and new alerts into facts and rollups,
    batch after batch until caught up (or for at most slas.facts.FOLD_BUDGET_S)."""
    return services.facts_fold()


def fact_partitions_ahead():
    """Nightly: this month's fact partitions and the next ones exist (PostgreSQL; a no-op elsewhere)."""
    return services.facts_partitions_ahead()


def archive_facts():
    """Monthly: archive the months of facts older than SLAS_FACT_RETENTION_MONTHS (0: never)."""
    months = settings.SLAS_FACT_RETENTION_MONTHS
    if not months or not partitions.enabled():
        return None
    return [str(record) for record in services.facts_archive(older_than_months=months)]


def incident_measures():
    """Every five minutes: recount this month's and last month's incident measures."""
    return [f"{month:%Y-%m}" for month in incidents.refresh_recent()]


def monthly_freeze(today=None):
    """Daily at 06:00 London: on the first working day of a month (England and Wales), freeze the
    previous month and send the statements. Any other day it does nothing; a second run on the
    same day issues nothing (month_freeze is idempotent)."""
    today = today or timezone.localdate()
    if today != calendar_uk.first_working_day(today.year, today.month):
        return None
    month = metrics.previous_month(metrics.month_start(today))
    run, issued = services.month_freeze(month=month)
    log.info("slas: froze %s (run v%s), %d statements issued", f"{month:%Y-%m}", run.version, len(issued))
    return len(issued)

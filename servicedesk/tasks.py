"""Background work of the service desk (django-q2), declared in portal/schedules.py."""
import datetime as dt
import logging

from django.utils import timezone

from portal import calendar_uk
from servicedesk import services

log = logging.getLogger(__name__)


def incidents_auto_close():
    """Hourly: close the resolved incidents whose re-open window has passed."""
    closed = services.incidents_auto_close()
    if closed:
        log.info("servicedesk: closed %d resolved incidents (%s)", len(closed), ", ".join(closed))
    return len(closed)


def reports_monthly_deliver(today=None):
    """Daily at 06:30 London: from the first working day of a month, deliver the previous month's
    self-service reports that are not delivered yet (idempotent: a delivered report is kept, so a
    missed day catches up the next)."""
    today = today or timezone.localdate()
    if today < calendar_uk.first_working_day(today.year, today.month):
        return 0
    previous = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    delivered = services.reports_deliver_month(month=previous, today=today)
    log.info("servicedesk: %d self-service reports of %s delivered", delivered, f"{previous:%Y-%m}")
    return delivered

"""The ground's own django-q2 schedules, and the first-run helpers every app's schedules use.

Each app declares its schedules in ``<app>/schedules.py`` (``portal.registry.register_schedule``),
imported in its ``AppConfig.ready()``; ``manage.py setup_schedules`` creates or updates every
registered schedule by name, so running it twice changes nothing.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from portal.registry import Schedule, register_schedule

LONDON = ZoneInfo("Europe/London")


def next_london(hour: int) -> dt.datetime:
    """The next ``hour``:00 in London, where a daily schedule starts (a daily "D" schedule then
    advances by 24 h in UTC, so across a clock change it lands an hour off: pick an hour that
    stays on the right day either way)."""
    now = dt.datetime.now(LONDON)
    day = now.date() + dt.timedelta(days=1 if now.time() >= dt.time(hour) else 0)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)


def next_monday_0700_london() -> dt.datetime:
    """Where a weekly ("W") schedule anchored on Monday 07:00 London time starts."""
    now = dt.datetime.now(LONDON)
    monday = (now + dt.timedelta(days=(7 - now.weekday()) % 7 or 7)).date()
    return dt.datetime.combine(monday, dt.time(7, 0), tzinfo=LONDON)


# Notifications owed to people who chose a daily digest, before the working day starts.
register_schedule(Schedule("portal: notification digest", "portal.notifications.services.digest_send", "D",
                           next_run=lambda: next_london(7)))
# Webhook attempts whose back-off has run out (the lost-task safety net as well).
register_schedule(Schedule("portal: webhook retries", "portal.webhooks.services.deliveries_retry_due", "I",
                           minutes=1))
# Idempotency-Key records older than 24 h (portal.idempotency): hourly keeps the table small.
register_schedule(Schedule("portal: idempotency keys purge", "portal.idempotency.keys_purge", "I",
                           minutes=60))
# Import previews never committed and long-expired API tokens (UPLOAD_RETENTION_DAYS), in the night.
register_schedule(Schedule("portal: stored uploads purge", "portal.tasks.stored_uploads_purge", "D",
                           next_run=lambda: next_london(3)))
# Sign-in records older than PORTAL_SIGN_IN_KEEP_DAYS (portal.models.SignIn), nightly.
register_schedule(Schedule("portal: sign-in records purge", "portal.services.sign_ins_purge", "D",
                           next_run=lambda: next_london(3)))

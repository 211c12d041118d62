"""Every django-q2 schedule of the portal, declared in one place.

``manage.py setup_schedules`` creates or updates each by name, so running it twice changes
nothing. Functions are named by dotted path, so this file imports no app.
Each entry: name, func, schedule_type (django_q Schedule.* code), and cron or minutes.
"""
SCHEDULES = [
    # Apps add their entries here, e.g.
    # {"name": "workshops: weekly action digest", "func": "workshops.tasks.action_digest_send",
    #  "schedule_type": "C", "cron": "0 7 * * 1"},
]


def _next_monday_0700_london():
    # Weekly schedule (django-q2 "W") anchored on Monday 07:00 London time; cron would need croniter.
    import datetime as _dt
    from zoneinfo import ZoneInfo

    now = _dt.datetime.now(ZoneInfo("Europe/London"))
    monday = (now + _dt.timedelta(days=(7 - now.weekday()) % 7 or 7)).date()
    return _dt.datetime.combine(monday, _dt.time(7, 0), tzinfo=ZoneInfo("Europe/London"))


SCHEDULES.append(
    {"name": "workshops: weekly action digest", "func": "workshops.tasks.action_digest_send",
     "schedule_type": "W", "next_run": _next_monday_0700_london()},
)


def _next_london(hour):
    """The next ``hour``:00 in London, where a daily schedule starts (cron expressions need
    croniter, which requirements.txt does not carry)."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    now = datetime.now(london)
    day = now.date() + timedelta(days=1 if now.time() >= time(hour) else 0)
    return datetime.combine(day, time(hour), tzinfo=london)


SCHEDULES += [
    # Notifications owed to people who chose a daily digest, before the working day starts.
    {"name": "portal: notification digest", "func": "portal.notifications.digest_send",
     "schedule_type": "D", "next_run": _next_london(7)},
    # Webhook attempts whose back-off has run out (the lost-task safety net as well).
    {"name": "portal: webhook retries", "func": "portal.webhooks.deliveries_retry_due",
     "schedule_type": "I", "minutes": 1},
    # Burn-rate warnings: the short window is an hour, so five minutes is prompt enough.
    {"name": "portal: burn-rate check", "func": "portal.burnrate.burnrate_check",
     "schedule_type": "I", "minutes": 5},
]

SCHEDULES += [
    # slas: fold completed adapter requests and new alerts into facts and rollups.
    {"name": "slas: fold facts", "func": "slas.tasks.fold_facts", "schedule_type": "I", "minutes": 1},
    # slas: cron 06:00 every day in London time (django-q2 evaluates cron with croniter over
    # localtime(), i.e. TIME_ZONE Europe/London, so it stays 06:00 across clock changes); the task
    # acts only on the first working day of a month (freezes the previous month, issues and e-mails
    # the statements) and is idempotent.
    {"name": "slas: monthly freeze", "func": "slas.tasks.monthly_freeze",
     "schedule_type": "C", "cron": "0 6 * * *"},
]

SCHEDULES += [
    # adapter: recover attempts of dead workers, send requests that are due (future-dated ones held
    # by DSP), collect device-held responses, time out overdue requests (E21/E30), finish batches.
    {"name": "adapter: advance requests", "func": "adapter.tasks.advance", "schedule_type": "I", "minutes": 1},
]

SCHEDULES += [
    # workshops: consultations whose opening or closing day has come (London dates), announced once
    # each (consultation.opened / .closed; the state is recorded on the consultation). 01:00 London,
    # not midnight: a daily ("D") schedule advances by 24 h in UTC, so across a clock change it
    # drifts by an hour and must still land after midnight.
    {"name": "workshops: consultation opened/closed events", "func": "workshops.tasks.consultation_events",
     "schedule_type": "D", "next_run": _next_london(1)},
    # workshops: action.overdue once per action and due date, to owners, watchers and webhooks.
    {"name": "workshops: overdue action events", "func": "workshops.tasks.actions_overdue_announce",
     "schedule_type": "D", "next_run": _next_london(1)},
]

SCHEDULES += [
    # servicedesk: resolved incidents close after the desk policy's working days unless re-opened.
    {"name": "servicedesk: auto-close resolved incidents", "func": "servicedesk.tasks.incidents_auto_close",
     "schedule_type": "I", "minutes": 60},
    # servicedesk: the monthly self-service reports (SEC H3.24, due by the 10th working day), from
    # the first working day of the month; idempotent, so later days only catch up.
    {"name": "servicedesk: monthly self-service reports", "func": "servicedesk.tasks.reports_monthly_deliver",
     "schedule_type": "C", "cron": "30 6 * * *"},
]

"""The governance registers' django-q2 schedules (portal.registry; created by manage.py setup_schedules)."""
from portal.registry import Schedule, register_schedule
from portal.schedules import next_london, next_monday_0700_london

register_schedule(Schedule("workshops: weekly action digest", "workshops.tasks.action_digest_send", "W",
                           next_run=next_monday_0700_london))
# Consultations whose opening or closing day has come (London dates), announced once each
# (consultation.opened / .closed; the state is recorded on the consultation). 01:00 London, not
# midnight: a daily ("D") schedule advances by 24 h in UTC, so across a clock change it drifts by an
# hour and must still land after midnight.
register_schedule(Schedule("workshops: consultation opened/closed events", "workshops.tasks.consultation_events",
                           "D", next_run=lambda: next_london(1)))
# action.overdue once per action and due date, to owners, watchers and webhooks.
register_schedule(Schedule("workshops: overdue action events", "workshops.tasks.actions_overdue_announce", "D",
                           next_run=lambda: next_london(1)))

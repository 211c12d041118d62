"""Device commands' django-q2 schedules (portal.registry; created by manage.py setup_schedules)."""
from portal.registry import Schedule, register_schedule

# Recover attempts of dead workers, send requests that are due (future-dated ones held by DSP),
# collect device-held responses, time out overdue requests (E21/E30), finish batches.
register_schedule(Schedule("adapter: advance requests", "adapter.tasks.advance", "I", minutes=1))

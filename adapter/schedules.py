"""Device commands' django-q2 schedules (portal.registry; created by manage.py setup_schedules)."""
from portal.registry import Schedule, register_schedule
from portal.schedules import next_london

# Recover attempts of dead workers, send requests that are due (future-dated ones held by DSP),
# collect device-held responses, time out overdue requests (E21/E30), finish batches.
register_schedule(Schedule("adapter: advance requests", "adapter.tasks.advance", "I", minutes=1))
# The uploaded files of batches that ended more than UPLOAD_RETENTION_DAYS ago (their rows stay).
register_schedule(Schedule("adapter: batch sources purge", "adapter.tasks.batch_sources_purge", "D",
                           next_run=lambda: next_london(3)))
# Rollouts: each running wave's thresholds on terminal outcomes (pause at the error threshold, the next
# wave at the success threshold), members joined to their requests, completion.
register_schedule(Schedule("adapter: rollouts advance", "adapter.tasks.rollouts_advance", "I", minutes=1))

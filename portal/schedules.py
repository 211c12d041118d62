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

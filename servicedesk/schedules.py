"""The service desk's django-q2 schedules (portal.registry; created by manage.py setup_schedules)."""
from portal.registry import Schedule, register_schedule

# Resolved incidents close after the desk policy's working days unless re-opened.
register_schedule(Schedule("servicedesk: auto-close resolved incidents", "servicedesk.tasks.incidents_auto_close",
                           "I", minutes=60))
# The monthly self-service reports (SEC H3.24, due by the 10th working day), from the first working
# day of the month; idempotent, so later days only catch up.
register_schedule(Schedule("servicedesk: monthly self-service reports", "servicedesk.tasks.reports_monthly_deliver",
                           "C", cron="30 6 * * *"))

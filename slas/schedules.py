"""The service levels' django-q2 schedules (portal.registry; created by manage.py setup_schedules)."""
from portal.registry import Schedule, register_schedule

# Fold completed adapter requests and new alerts into facts and rollups.
register_schedule(Schedule("slas: fold facts", "slas.tasks.fold_facts", "I", minutes=1))
# Incident measures: a running incident clock breaches without anyone writing, so this month's
# and last month's incident rollups are recounted from the clocks (rewritten only on a change).
register_schedule(Schedule("slas: incident measures", "slas.tasks.incident_measures", "I", minutes=5))
# Cron 06:00 every day in London time (django-q2 evaluates cron with croniter over localtime(),
# i.e. TIME_ZONE Europe/London, so it stays 06:00 across clock changes); the task acts only on the
# first working day of a month (freezes the previous month, issues and e-mails the statements) and
# is idempotent.
register_schedule(Schedule("slas: monthly freeze", "slas.tasks.monthly_freeze", "C", cron="0 6 * * *"))
# Burn-rate warnings: the shortest window of the default rules (slas.burnrate.DEFAULT_RULES) is
# five minutes, one run of this schedule. The name is kept from when portal held them:
# setup_schedules updates by name, so a renamed entry would leave the old row behind, calling a
# function that no longer exists.
register_schedule(Schedule("portal: burn-rate check", "slas.burnrate.burnrate_check", "I", minutes=5))
# Facts by month (PostgreSQL): this month's partition and the next two, made ahead every night
# (idempotent; the loader and the fold also make a missing one when they need it).
register_schedule(Schedule("slas: fact partitions ahead", "slas.tasks.fact_partitions_ahead", "C", cron="15 0 * * *"))
# Retention: on the 3rd of each month at 02:00 London, months of facts older than
# SLAS_FACT_RETENTION_MONTHS go to archive files (the task does nothing while that is 0, the default).
register_schedule(Schedule("slas: archive old facts", "slas.tasks.archive_facts", "C", cron="0 2 3 * *"))

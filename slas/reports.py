"""The reports of the service levels: the monthly service measures report (the month's measure
results, credits and exclusions) and the service credit statements. The navigation lists them
under Service levels. Registered in SlasConfig.ready()."""
from portal.access import OPERATIONS
from portal.registry import Report, register_report

register_report(Report("monthly_report", "Monthly report", "slas:report", OPERATIONS, section="service_levels",
                       weight=10))
register_report(Report("statements", "Statements", "slas:statement_list", OPERATIONS, section="service_levels",
                       weight=20))

"""The Service desk section of the navigation: incidents, service status, alerts, maintenance and
the self-service reports. Registered in ServicedeskConfig.ready()."""
from portal.access import DCC, DCC_ADMIN, EVERYONE, OPERATIONS
from portal.registry import NavEntry, NavSection, register_nav_entry, register_nav_section

register_nav_section(NavSection("servicedesk", "Service desk", weight=25))
# Incident pages (servicedesk.incident_urls); the status pages take the weights in between.
register_nav_entry(NavEntry("servicedesk", "Incidents", "servicedesk:incident_list", OPERATIONS, weight=10))
register_nav_entry(NavEntry("servicedesk", "Problems", "servicedesk:problem_list", DCC, weight=20))
register_nav_entry(NavEntry("servicedesk", "Target times", "servicedesk:target_list", DCC, weight=80))
register_nav_entry(NavEntry("servicedesk", "Desk policy", "servicedesk:policy_edit", DCC_ADMIN, weight=90))

# The status pages (servicedesk.status_urls): every logged-in person reads the service's status,
# alerts and maintenance; the self-service reports are the service users' (and DCC's for them).
for weight, (label, url_name, audience) in enumerate([
    ("Service status", "servicedesk:status", EVERYONE),
    ("Service alerts", "servicedesk:alert_list", EVERYONE),
    ("Planned maintenance", "servicedesk:maintenance_list", EVERYONE),
    ("Self-service reports", "servicedesk:report_index", OPERATIONS),
    ("Report deliveries", "servicedesk:delivery_list", OPERATIONS),
    ("Forecasts", "servicedesk:forecast_page", OPERATIONS),
], start=1):
    register_nav_entry(NavEntry("servicedesk", label, url_name, audience, weight=100 + 10 * weight))

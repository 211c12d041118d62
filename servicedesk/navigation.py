"""The Service desk section of the navigation: incidents, service status, alerts, maintenance and
the self-service reports. Registered in ServicedeskConfig.ready()."""
from portal.registry import NavSection, register_nav_section

register_nav_section(NavSection("servicedesk", "Service desk", weight=25))

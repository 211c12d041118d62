"""The ground's sections of the sidebar and its own links: the dashboard, and under Admin the
notifications, webhooks, organisations, audit log, people (an organisation's administrator),
sign-ins (DCC administrators), task queue, API docs and admin site.
Apps add their sections and links from ``<app>/navigation.py`` (portal.registry).
Registered in PortalConfig.ready()."""
from portal.access import DCC, DCC_ADMIN, EVERYONE, OPERATIONS, ORG_ADMIN
from portal.registry import NavEntry, NavSection, register_nav_entry, register_nav_section

# Operations first and Admin last: the apps' sections take weights between 10 and 90.
register_nav_section(NavSection("operations", "Operations", weight=10))
register_nav_section(NavSection("admin", "Admin", weight=90))

register_nav_entry(NavEntry("operations", "Dashboard", "home", EVERYONE, weight=0))
for weight, (label, url_name, audience) in enumerate([
    ("Notifications", "notification_list", EVERYONE),
    ("Webhooks", "webhook_list", OPERATIONS),
    ("Organisations", "organisation_list", DCC),
    ("Audit log", "audit_log", DCC),
    ("Task queue", "admin:django_q_schedule_changelist", DCC),
    ("API docs", "v1:api_docs", EVERYONE),
    ("Admin site", "admin:index", DCC_ADMIN),
], start=1):
    register_nav_entry(NavEntry("admin", label, url_name, audience, weight=10 * weight))
# An organisation administrator's people; DCC administrators' record of sign-ins (between the
# API docs and the admin site).
register_nav_entry(NavEntry("admin", "People", "people", ORG_ADMIN, weight=45))
register_nav_entry(NavEntry("admin", "Sign-ins", "sign_in_log", DCC_ADMIN, weight=65))

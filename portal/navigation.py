"""The ground's sections of the sidebar and its own links: the dashboard, and under Admin the
notifications, webhooks, organisations, audit log, people (an organisation's administrator),
sign-ins (DCC administrators), task queue, API docs and admin site.
Apps add their sections and links from ``<app>/navigation.py`` (portal.registry).
Registered in PortalConfig.ready()."""
from functools import partial

from portal.access import DCC, DCC_ADMIN, EVERYONE, OPERATIONS, ORG_ADMIN, opens_admin
from portal.registry import NavEntry, NavSection, register_nav_entry, register_nav_section

# Operations first and Admin last: the apps' sections take weights between 10 and 90.
register_nav_section(NavSection("operations", "Operations", weight=10))
register_nav_section(NavSection("admin", "Admin", weight=90))

register_nav_entry(NavEntry("operations", "Dashboard", "home", EVERYONE, weight=0))
# The task queue and the admin site are Django admin pages: shown only to those the admin lets in
# (staff; the task queue's schedules need their view permission too), not to all of the audience.
SCHEDULES = partial(opens_admin, permission="django_q.view_schedule")
for weight, (label, url_name, audience, requires) in enumerate([
    ("Notifications", "notification_list", EVERYONE, None),
    ("Webhooks", "webhook_list", OPERATIONS, None),
    ("Organisations", "organisation_list", DCC, None),
    ("Audit log", "audit_log", DCC, None),
    ("Task queue", "admin:django_q_schedule_changelist", DCC, SCHEDULES),
    ("API docs", "v1:api_docs", EVERYONE, None),
    ("Admin site", "admin:index", DCC_ADMIN, opens_admin),
], start=1):
    register_nav_entry(NavEntry("admin", label, url_name, audience, weight=10 * weight, requires=requires))
# An organisation administrator's people; DCC administrators' record of sign-ins (between the
# API docs and the admin site).
register_nav_entry(NavEntry("admin", "People", "people", ORG_ADMIN, weight=45))
register_nav_entry(NavEntry("admin", "Sign-ins", "sign_in_log", DCC_ADMIN, weight=65))

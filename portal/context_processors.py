"""Site-wide template context: the navigation, built from url names that exist."""
from django.urls import NoReverseMatch, reverse

# (section, [(label, url name, who sees it)]): "dcc" DCC staff, "ops" anyone with operational
# access (DCC and service users), "gov" governance readers (DCC and SDAG), "all" everyone.
NAVIGATION = [
    ("Operations", [
        ("Dashboard", "home", "all"),
        ("Devices", "inventory:device_list", "ops"),
        ("Device models", "inventory:model_list", "all"),
        ("Configuration items", "inventory:ci_list", "all"),
        ("Service requests", "adapter:request_list", "ops"),
        ("Batches", "adapter:batch_list", "ops"),
        ("Alerts", "adapter:alert_list", "ops"),
    ]),
    ("Service levels", [
        ("Monthly report", "slas:report", "ops"),
        ("Statements", "slas:statement_list", "ops"),
        ("Measures", "slas:measure_list", "all"),
    ]),
    ("Governance", [
        ("Meetings", "workshops:meeting_list", "gov"),
        ("Actions", "workshops:action_list", "gov"),
        ("RAID log", "workshops:raid_list", "gov"),
        ("Documents", "workshops:document_list", "gov"),
        ("Consultations", "workshops:consultation_list", "gov"),
    ]),
    ("Admin", [
        ("Notifications", "notification_list", "all"),
        ("Webhooks", "webhook_list", "ops"),
        ("Organisations", "organisation_list", "dcc"),
        ("Audit log", "audit_log", "dcc"),
        ("Task queue", "admin:django_q_schedule_changelist", "dcc"),
        ("API docs", "api_docs", "all"),
        ("Admin site", "admin:index", "admin"),
    ]),
]


def _audience(user):
    if not user.is_authenticated:
        return set()
    audience = {"all"}
    if user.is_dcc:
        audience |= {"dcc", "ops", "gov"}
        if user.is_dcc_admin:
            audience.add("admin")
    elif user.role == "service_user":
        audience.add("ops")
    elif user.role == "sdag_member":
        audience.add("gov")
    return audience


def portal(request):
    audience = _audience(request.user)
    sections = []
    for title, entries in NAVIGATION:
        links = []
        for label, name, who in entries:
            if who not in audience:
                continue
            try:
                links.append({"label": label, "url": reverse(name)})
            except NoReverseMatch:
                continue  # the app that serves it is not built yet
        if links:
            sections.append({"title": title, "links": links})
    return {"navigation": sections}


# Burn-rate thresholds: DCC administrators edit them; the episodes they fired are DCC's to read.
NAVIGATION[-1][1].extend([
    ("Burn-rate rules", "burnrate_rule_list", "admin"),
    ("Burn-rate episodes", "burnrate_episode_list", "dcc"),
])

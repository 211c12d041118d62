"""The ground's registries (portal.registry): each app registers its tiles, search providers,
navigation, events and reports; a key registered twice or an unknown audience fails at start-up;
the navigation each role sees; events that nobody registered are refused."""
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from portal.context_processors import navigation_for, portal
from portal.events import publish
from portal.notifications.models import Notification
from portal.registry import (
    EVENTS,
    NAV_ENTRIES,
    NAV_SECTIONS,
    REPORTS,
    SEARCH_PROVIDERS,
    TILES,
    Event,
    NavEntry,
    NavSection,
    Registry,
    Report,
    SearchProvider,
    Tile,
    register_tile,
    webhook_event_choices,
)

OPERATIONS = ("Operations", [("Dashboard", "/"), ("Devices", "/inventory/devices/"),
                             ("Device models", "/inventory/models/"), ("Configuration items", "/inventory/items/"),
                             ("Service requests", "/adapter/requests/"), ("Batches", "/adapter/batches/"),
                             ("Rollouts", "/adapter/rollouts/"),
                             ("Alerts", "/adapter/alerts/"), ("Signing certificates", "/adapter/certificates/")])
# DCC's Operations also hold the four-eyes approval queue (after Rollouts).
OPERATIONS_DCC = (OPERATIONS[0], OPERATIONS[1][:7] + [("Approvals", "/adapter/approvals/")] + OPERATIONS[1][7:])
SERVICE_LEVELS = ("Service levels", [("Monthly report", "/slas/"), ("Statements", "/slas/statements/"),
                                     ("Measures", "/slas/measures/")])
GOVERNANCE = ("Governance", [("Meetings", "/workshops/meetings/"), ("Actions", "/workshops/actions/"),
                             ("RAID log", "/workshops/raid/"), ("Documents", "/workshops/documents/"),
                             ("Consultations", "/workshops/consultations/")])
STATUS_LINKS = [("Service status", "/servicedesk/status/"), ("Service alerts", "/servicedesk/alerts/"),
                ("Planned maintenance", "/servicedesk/maintenance/")]
REPORT_LINKS = [("Self-service reports", "/servicedesk/reports/"),
                ("Report deliveries", "/servicedesk/reports/deliveries/"),
                ("Forecasts", "/servicedesk/reports/forecasts/")]
# The incident pages' entries come first, the status and report pages after (servicedesk.navigation).
SERVICE_DESK_USER = ("Service desk", [("Incidents", "/servicedesk/incidents/")] + STATUS_LINKS + REPORT_LINKS)
INCIDENT_DCC = [("Incidents", "/servicedesk/incidents/"), ("Problems", "/servicedesk/problems/"),
                ("Target times", "/servicedesk/desk/targets/")]
SERVICE_DESK_DCC = ("Service desk", INCIDENT_DCC + STATUS_LINKS + REPORT_LINKS)
SERVICE_DESK_ADMIN = ("Service desk", INCIDENT_DCC + [("Desk policy", "/servicedesk/desk/policy/")]
                      + STATUS_LINKS + REPORT_LINKS)
DCC_ADMIN_LINKS = [("Notifications", "/notifications/"), ("Webhooks", "/webhooks/"),
                   ("Organisations", "/organisations/"), ("Audit log", "/audit/"),
                   ("Task queue", "/admin/django_q/schedule/"), ("API docs", "/api/v1/docs/")]
# An operator is not staff: the task queue (a Django admin page) would not open for them.
DCC_OPERATOR_LINKS = [link for link in DCC_ADMIN_LINKS if link[0] != "Task queue"]
NAVIGATION = {
    "dcc_operator": [OPERATIONS_DCC, SERVICE_LEVELS, SERVICE_DESK_DCC, GOVERNANCE,
                     ("Admin", DCC_OPERATOR_LINKS + [("Burn-rate episodes", "/burn-rate/episodes/")])],
    "dcc_admin": [OPERATIONS_DCC, SERVICE_LEVELS, SERVICE_DESK_ADMIN, GOVERNANCE,
                  ("Admin", DCC_ADMIN_LINKS + [("Sign-ins", "/accounts/sign-ins/"), ("Admin site", "/admin/"),
                                               ("Burn-rate rules", "/burn-rate/rules/"),
                                               ("Burn-rate episodes", "/burn-rate/episodes/")])],
    "supplier_a": [OPERATIONS, SERVICE_LEVELS, SERVICE_DESK_USER,
                   ("Admin", [("Notifications", "/notifications/"), ("Webhooks", "/webhooks/"),
                              ("API docs", "/api/v1/docs/")])],
    "sdag_member": [("Operations", [("Dashboard", "/"), ("Device models", "/inventory/models/"),
                                    ("Configuration items", "/inventory/items/")]),
                    ("Service levels", [("Measures", "/slas/measures/")]), ("Service desk", STATUS_LINKS), GOVERNANCE,
                    ("Admin", [("Notifications", "/notifications/"), ("API docs", "/api/v1/docs/")])],
}


def _shape(navigation):
    return [(section["title"], [(link["label"], link["url"]) for link in section["links"]])
            for section in navigation]


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(NAVIGATION))
def test_each_role_sees_its_navigation_in_order(role, request, client_for):
    user = request.getfixturevalue(role)
    factory_request = RequestFactory().get("/")
    factory_request.user = user
    assert _shape(portal(factory_request)["navigation"]) == NAVIGATION[role]
    html = client_for(user).get("/").content.decode()
    for _title, links in NAVIGATION[role]:
        for label, url in links:
            assert f'<a href="{url}">{label}</a>' in html, (role, label)


ROLES = ["dcc_operator", "dcc_admin", "supplier_a", "sdag_member"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_task_queue_link_is_shown_exactly_to_those_it_opens_for(role, request, client_for):
    user = request.getfixturevalue(role)
    client = client_for(user)
    shown = '<a href="/admin/django_q/schedule/">Task queue</a>' in client.get("/").content.decode()
    opens = client.get("/admin/django_q/schedule/").status_code == 200
    assert shown == opens, (role, shown, opens)
    assert shown == (role == "dcc_admin")


@pytest.mark.django_db
def test_a_staff_operator_with_the_schedules_permission_gets_the_task_queue_link(dcc_operator, client_for):
    from django.contrib.auth.models import Permission

    client = client_for(dcc_operator)
    dcc_operator.is_staff = True
    dcc_operator.save(update_fields=["is_staff"])
    assert "Task queue" not in client.get("/").content.decode()  # staff, but no permission: the page refuses
    assert client.get("/admin/django_q/schedule/").status_code == 403
    view_schedule = Permission.objects.get(codename="view_schedule", content_type__app_label="django_q")
    dcc_operator.user_permissions.add(view_schedule)
    assert '<a href="/admin/django_q/schedule/">Task queue</a>' in client.get("/").content.decode()
    assert client.get("/admin/django_q/schedule/").status_code == 200


def test_anonymous_visitors_get_no_navigation():
    from django.contrib.auth.models import AnonymousUser

    assert navigation_for(AnonymousUser()) == []


def test_every_navigation_link_names_a_registered_section_and_a_page():
    from django.urls import reverse

    sections = {section.slug for section in NAV_SECTIONS}
    for item in [*NAV_ENTRIES, *REPORTS]:
        assert item.section in sections, item
        assert reverse(item.url_name), item


def test_reports_are_registered_by_their_app_and_listed_by_the_navigation():
    assert [(r.slug, r.title, r.url_name, r.section) for r in REPORTS] == [
        ("monthly_report", "Monthly report", "slas:report", "service_levels"),
        ("statements", "Statements", "slas:statement_list", "service_levels")]
    assert "slas:report" not in NAV_ENTRIES  # one registration, not a report and a link


@pytest.mark.django_db
def test_a_link_to_an_unregistered_section_fails(dcc_operator):
    with NAV_ENTRIES.registered(NavEntry("nowhere", "Lost", "home_lost", ("dcc",))):
        with pytest.raises(LookupError, match="nowhere"):
            navigation_for(dcc_operator)


def test_registering_the_same_key_twice_is_an_error():
    existing = TILES.get("measures")
    with pytest.raises(ImproperlyConfigured, match="dashboard tile 'measures' is registered twice"):
        register_tile(Tile("measures", "Again", ("dcc",), existing.context, existing.template))
    assert TILES.get("measures") is existing
    for registry, item in [
        (SEARCH_PROVIDERS, SearchProvider("device", "Devices again", lambda user, query: [])),
        (NAV_SECTIONS, NavSection("admin", "Admin again")),
        (NAV_ENTRIES, NavEntry("admin", "Home again", "home", ("dcc",))),
        (EVENTS, Event("request.failed", "again")),
        (REPORTS, Report("statements", "Again", "slas:statement_list", ("dcc",), section="service_levels")),
    ]:
        with pytest.raises(ImproperlyConfigured, match="registered twice"):
            registry.register(item)


def test_unknown_audiences_are_refused():
    with pytest.raises(ImproperlyConfigured, match="unknown audience ops"):
        NavEntry("admin", "Old style", "home", ("ops",))
    with pytest.raises(ImproperlyConfigured, match="names no audience"):
        Tile("nobody", "Nobody", (), lambda user, now: {}, "portal/partials/tile_base.html")


def test_registry_order_is_weight_then_registration():
    registry = Registry("thing", key=lambda item: item.slug)
    for slug, weight in [("b", 20), ("a", 10), ("c", 20), ("d", 0)]:
        registry.register(NavSection(slug, slug.upper(), weight=weight))
    assert [section.slug for section in registry] == ["d", "a", "b", "c"]
    assert len(registry) == 4 and "a" in registry and registry.get("z") is None


# --- events --------------------------------------------------------------------------------------

def test_each_app_registers_the_events_it_publishes():
    assert {event.name for event in EVENTS} == {
        "request.failed", "alert.received", "request.quarantined", "threshold.change_requested",  # adapter
        "rollout.started", "rollout.wave_started", "rollout.wave_ready", "rollout.awaiting_approval",
        "rollout.paused", "rollout.resumed", "rollout.cancelled", "rollout.completed",  # adapter's rollouts
        "rollout.retry_started",
        "action.overdue", "consultation.opened", "consultation.closed", "action.raised", "action.status_changed",
        "action.digest", "raid.closure_requested", "raid.confirmed", "raid.rejected",  # workshops
        "statement.issued", "burnrate.warning",  # slas
        "device_model.withdrawn",  # inventory
        "incident.created", "incident.updated", "incident.resolved", "incident.reopened",
        "service_alert.published", "maintenance.scheduled", "self_service_report.delivered",  # servicedesk
    }


def test_webhooks_are_offered_the_same_events_in_the_same_order():
    assert webhook_event_choices() == [
        ("request.failed", "A service request failed"),
        ("alert.received", "An alert was received"),
        ("request.quarantined", "A request was quarantined"),
        ("rollout.started", "A rollout started"),
        ("rollout.wave_started", "A wave of a rollout started"),
        ("rollout.wave_ready", "A wave of a rollout waits for a person to start it"),
        ("rollout.awaiting_approval", "A wave of a rollout waits for four eyes"),
        ("rollout.paused", "A rollout paused (by a person or its error threshold)"),
        ("rollout.resumed", "A paused rollout resumed"),
        ("rollout.cancelled", "A rollout was cancelled"),
        ("rollout.completed", "A rollout completed"),
        ("rollout.retry_started", "A rollout retries its failed of a class"),
        ("action.overdue", "An action is overdue"),
        ("statement.issued", "A statement was issued"),
        ("consultation.opened", "A consultation opened"),
        ("consultation.closed", "A consultation closed"),
        ("burnrate.warning", "A measure burns its error budget too fast"),
        ("incident.created", "An incident was raised"),
        ("incident.updated", "An incident was updated"),
        ("incident.resolved", "An incident was resolved"),
        ("incident.reopened", "An incident was re-opened"),
        ("service_alert.published", "A service alert was published"),
        ("maintenance.scheduled", "Planned maintenance was announced"),
        ("self_service_report.delivered", "A monthly self-service report was delivered"),
    ]


@pytest.mark.django_db
def test_the_webhook_form_and_api_offer_the_registered_events(supplier_a, client_for, api_for):
    from portal.webhooks.api import WebhookEndpointSerializer
    from portal.webhooks.forms import WebhookEndpointForm

    expected = [name for name, _ in webhook_event_choices()]
    assert [value for value, _ in WebhookEndpointForm().fields["events"].choices] == expected
    # The API also offers "*" (every event), first; the page form has no such box.
    assert list(WebhookEndpointSerializer().fields["events"].child.choices) == ["*", *expected]
    with EVENTS.registered(Event("test.subscribable", "A test event webhooks may hear", webhook=True)):
        assert "test.subscribable" in dict(WebhookEndpointForm().fields["events"].choices)
        response = api_for(supplier_a).post("/api/webhook-endpoints/", {
            "name": "x", "url": "https://x.example/", "events": ["test.subscribable"]}, format="json")
        assert response.status_code == 201, response.content
    response = api_for(supplier_a).post("/api/webhook-endpoints/", {
        "name": "y", "url": "https://y.example/", "events": ["test.subscribable"]}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_publishing_an_unregistered_event_is_refused(dcc_operator, caplog):
    with pytest.raises(ImproperlyConfigured, match="event 'no.such.event' is not registered"):
        publish("no.such.event", recipients=[dcc_operator], summary="Nobody declared this")
    with override_settings(STRICT_EVENTS=False), caplog.at_level(logging.ERROR, logger="portal.events"):
        assert publish("no.such.event", recipients=[dcc_operator], summary="Nobody declared this") == 0
    assert "event no.such.event is not registered" in caplog.text
    assert not Notification.objects.exists()
    # A registered one goes through.
    assert publish("alert.received", recipients=[dcc_operator], summary="Alert 8F3E",
                   payload={"alert_id": "AL-1", "alert_code": "0x8F3E", "device_id": None,
                            "raised_at": "2026-12-03T08:00:00+00:00"}) == 1

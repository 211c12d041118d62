"""The service status pages through the browser: the status page with its 90-day strip (a fixed
number of queries whatever the history), alerts published, updated and closed through pages,
maintenance scheduled (short notice needs a reason), approved by a second person and announced
as an alert, the calendar feed, each self-service report's CSV against the report function for
that organisation only, the forecasts form, and the monthly deliveries kept to their owner."""
import datetime as dt

import icalendar
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from adapter import catalogue
from adapter.models import Alert, ServiceRequest, ServiceRequestVariant
from inventory import services as inventory_services
from inventory.choices import DeviceType
from portal.services import api_token_get_or_create, feed_token_issue
from servicedesk import reports, services
from servicedesk.choices import ComponentStatus, MaintenanceStatus, ReportKind
from servicedesk.clock import LONDON
from servicedesk.models import (
    ComponentStatusChange,
    PlannedMaintenance,
    SelfServiceReportDelivery,
    ServiceAlert,
    UsageForecast,
)
from servicedesk.status_views import HISTORY_DAYS, REPORT_PAGES
from tests.inventory.factories import device

NOON = dt.datetime(2025, 6, 18, 12, 0, tzinfo=LONDON)  # a Wednesday


def url(name, *args):
    return reverse(f"servicedesk:{name}", args=args)


def streamed(response):
    assert response.streaming, "the CSV download is streamed"
    return b"".join(response.streaming_content)


# --- the status page -------------------------------------------------------------------------

def _status_at(component, status, when, actor=None):
    with time_machine.travel(when, tick=False):
        services.component_set_status(actor=actor, component=component, status=status, reason="test")


def test_status_page_shows_status_alerts_strip_and_availability(components, dcc_operator, supplier_a, client_for):
    dsp = components["dsp"]
    _status_at(dsp, ComponentStatus.DEGRADED, NOON - dt.timedelta(days=10))
    _status_at(dsp, ComponentStatus.OPERATIONAL, NOON - dt.timedelta(days=10, hours=-2))
    _status_at(components["dugc"], ComponentStatus.PARTIAL_OUTAGE, NOON - dt.timedelta(days=1))
    with time_machine.travel(NOON - dt.timedelta(hours=3), tick=False):
        services.outage_record(actor=dcc_operator, component=components["csp-north"],
                               started_at=NOON - dt.timedelta(days=5, hours=1),
                               ended_at=NOON - dt.timedelta(days=5), description="cell overload")
        alert = services.service_alert_publish(actor=dcc_operator, title="Gateway slow", description="Slow answers",
                                               components=[components["dugc"]])
        closed = services.service_alert_publish(actor=dcc_operator, title="Old news", description="Gone",
                                                components=[components["dugc"]])
        services.service_alert_close(actor=dcc_operator, alert=closed)
    client = client_for(supplier_a)
    with time_machine.travel(NOON, tick=False):
        response = client.get(url("status"))
    assert response.status_code == 200
    body = response.content.decode()
    for component in components.values():
        assert component.name in body
    rows = {row["component"].key: row for row in response.context["rows"]}
    assert rows["dugc"]["component"].status == ComponentStatus.PARTIAL_OUTAGE and "Partial outage" in body
    assert [a.reference for a in rows["dugc"]["alerts"]] == [alert.reference]
    assert url("alert_detail", alert.pk) in body and url("alert_detail", closed.pk) not in body
    assert rows["dsp"]["alerts"] == []
    for row in rows.values():
        assert len(row["days"]) == HISTORY_DAYS and row["days"][-1].date == NOON.date()
        assert body.count(f'aria-label="{row["component"].name}: daily status') == 1
    by_date = {day.date: day for day in rows["dsp"]["days"]}
    assert by_date[(NOON - dt.timedelta(days=10)).date()].status == ComponentStatus.DEGRADED
    assert by_date[(NOON - dt.timedelta(days=9)).date()].status == ComponentStatus.OPERATIONAL
    assert by_date[(NOON - dt.timedelta(days=11)).date()].status == ComponentStatus.OPERATIONAL
    north = {day.date: day for day in rows["csp-north"]["days"]}[(NOON - dt.timedelta(days=5)).date()]
    assert north.status == ComponentStatus.MAJOR_OUTAGE and north.outage_minutes == 60
    assert "60 min unplanned outage" in body
    # June has 43,200 minutes; one hour down: 99.861 %.
    assert str(rows["csp-north"]["availability"].percent) == "99.861" and "99.861%" in body
    # A supplier reads, never changes: no status form on its page.
    assert url("component_set_status", components["dsp"].pk) not in body


def test_the_strip_costs_the_same_queries_whatever_the_history(components, dcc_operator, supplier_a, client_for):
    client = client_for(supplier_a)

    def count():
        with time_machine.travel(NOON, tick=False), CaptureQueriesContext(connection) as queries:
            assert client.get(url("status")).status_code == 200
        return len(queries)

    before = count()
    for days in range(1, 80, 3):  # changes and outages on many days of the strip
        _status_at(components["dsp"], ComponentStatus.DEGRADED if days % 2 else ComponentStatus.OPERATIONAL,
                   NOON - dt.timedelta(days=days))
        services.outage_record(actor=dcc_operator, component=components["dugc"],
                               started_at=NOON - dt.timedelta(days=days, hours=2),
                               ended_at=NOON - dt.timedelta(days=days, hours=1))
    assert count() == before


def test_dcc_sets_a_components_status_and_records_an_outage_through_pages(components, dcc_operator, supplier_a,
                                                                          client_for):
    dsp = components["dsp"]
    operator = client_for(dcc_operator)
    response = operator.get(url("status"))
    assert url("component_set_status", dsp.pk) in response.content.decode()
    response = operator.post(url("component_set_status", dsp.pk), {"status": "major_outage", "reason": "DSP down",
                                                                   "next": "status"})
    assert response.status_code == 302 and response["Location"] == url("status")
    dsp.refresh_from_db()
    assert dsp.status == ComponentStatus.MAJOR_OUTAGE
    assert ComponentStatusChange.objects.get(component=dsp).reason == "DSP down"
    response = operator.post(url("component_set_status", dsp.pk), {"status": "broken"})
    assert response.status_code == 400 and "status" in response.context["form"].errors
    response = operator.post(url("outage_record", dsp.pk), {"started_at": "2025-06-18T09:00", "incident": "INC999999"})
    assert response.status_code == 400 and "no incident INC999999" in str(response.context["form"].errors["incident"])
    response = operator.post(url("outage_record", dsp.pk), {"started_at": "2025-06-18T09:00", "description": "x"})
    assert response.status_code == 302
    outage = dsp.outages.get()
    assert outage.started_at == dt.datetime(2025, 6, 18, 8, 0, tzinfo=dt.UTC) and outage.ended_at is None
    page = operator.get(url("component_detail", dsp.pk)).content.decode()
    assert url("outage_end", outage.pk) in page and "still down" in page
    response = operator.post(url("outage_end", outage.pk), {"ended_at": "2025-06-18T08:00"})
    assert response.status_code == 400 and "ended_at" in response.context["form"].errors
    assert operator.post(url("outage_end", outage.pk), {"ended_at": "2025-06-18T10:30"}).status_code == 302
    outage.refresh_from_db()
    assert outage.ended_at == dt.datetime(2025, 6, 18, 9, 30, tzinfo=dt.UTC)
    # Suppliers read the component's page but change nothing of it.
    supplier = client_for(supplier_a)
    assert supplier.get(url("component_detail", dsp.pk)).status_code == 200
    assert supplier.post(url("component_set_status", dsp.pk), {"status": "operational"}).status_code == 404
    assert supplier.post(url("outage_record", dsp.pk), {"started_at": "2025-06-18T09:00"}).status_code == 404
    dsp.refresh_from_db()
    assert dsp.status == ComponentStatus.MAJOR_OUTAGE


def test_htmx_refreshes_the_board_alone(components, supplier_a, client_for):
    response = client_for(supplier_a).get(url("status"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith("<div id=\"status-board\"") and "<html" not in body
    assert 'hx-trigger="every 60s"' in body and components["dsp"].name in body


def test_an_outages_incident_is_named_only_to_those_who_may_see_it(components, dcc_operator, supplier_a,
                                                                   supplier_b, client_for, raise_incident):
    incident = raise_incident(supplier_b)
    services.outage_record(actor=dcc_operator, component=components["dsp"], started_at=NOON, incident=incident)
    page = url("component_detail", components["dsp"].pk)
    assert incident.reference in client_for(supplier_b).get(page).content.decode()
    assert incident.reference in client_for(dcc_operator).get(page).content.decode()
    assert incident.reference not in client_for(supplier_a).get(page).content.decode()


# --- service alerts --------------------------------------------------------------------------

def test_alert_published_updated_and_closed_through_pages(components, dcc_operator, supplier_a, client_for):
    operator, supplier = client_for(dcc_operator), client_for(supplier_a)
    assert supplier.get(url("alert_publish")).status_code == 403
    response = operator.post(url("alert_publish"), {"title": "", "description": "x"})
    assert response.status_code == 400 and "title" in response.context["form"].errors
    response = operator.post(url("alert_publish"), {
        "title": "CSP North slow", "description": "Reads in the north take minutes",
        "components": [components["csp-north"].pk], "regions": ["north"],
        "expected_resolution_at": "2025-06-18T15:00"})
    alert = ServiceAlert.objects.get()
    assert response.status_code == 302 and response["Location"] == url("alert_detail", alert.pk)
    assert alert.regions == ["north"] and list(alert.components.all()) == [components["csp-north"]]
    assert alert.expected_resolution_at == dt.datetime(2025, 6, 18, 14, 0, tzinfo=dt.UTC)

    listed = supplier.get(url("alert_list")).content.decode()
    assert alert.reference in listed and "CSP North slow" in listed
    page = supplier.get(url("alert_detail", alert.pk)).content.decode()
    assert "Reads in the north take minutes" in page and url("alert_update", alert.pk) not in page
    assert supplier.post(url("alert_update", alert.pk), {"text": "hijack"}).status_code == 404

    assert operator.post(url("alert_update", alert.pk), {"text": ""}).status_code == 400
    response = operator.post(url("alert_update", alert.pk), {"text": "Carrier restarted",
                                                             "expected_resolution_at": "2025-06-18T16:00"})
    assert response.status_code == 302
    page = supplier.get(url("alert_detail", alert.pk)).content.decode()
    assert "Carrier restarted" in page
    assert operator.post(url("alert_close", alert.pk), {"text": "All clear"}).status_code == 302
    alert.refresh_from_db()
    assert alert.closed_at is not None and alert.expected_resolution_at.hour == 15  # 16:00 BST
    assert "All clear" in supplier.get(url("alert_detail", alert.pk)).content.decode()
    assert alert.reference not in supplier.get(url("alert_list")).content.decode()  # active only by default
    assert alert.reference in supplier.get(url("alert_list") + "?state=closed").content.decode()
    assert alert.reference in supplier.get(url("alert_list") + "?state=all").content.decode()
    # Closed is closed: a later update names the field and writes nothing.
    response = operator.post(url("alert_update", alert.pk), {"text": "late"})
    assert response.status_code == 400 and "is closed" in str(response.context["form"].errors["text"])
    assert alert.updates.count() == 2


# --- planned maintenance ---------------------------------------------------------------------

SCHEDULE = {"title": "DSP patching", "description": "Security patches to the DSP", "regions": ["north", "south"]}


def test_maintenance_short_notice_needs_a_reason_then_approval_and_announcement(
        components, dcc_operator, dcc_admin, second_dcc_admin, supplier_a, client_for):
    operator, supplier = client_for(dcc_operator), client_for(supplier_a)
    data = {**SCHEDULE, "components": [components["dsp"].pk],
            "start_at": "2025-06-20T22:00", "end_at": "2025-06-21T02:00"}  # two days ahead: short notice
    with time_machine.travel(NOON, tick=False):
        assert supplier.get(url("maintenance_schedule")).status_code == 403
        response = operator.post(url("maintenance_schedule"), data)
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert "short_notice_reason" in errors and "less than the 10 required" in str(errors["short_notice_reason"])
        assert not PlannedMaintenance.objects.exists()
        response = operator.post(url("maintenance_schedule"), {**data, "end_at": "2025-06-20T21:00"})
        assert response.status_code == 400 and "end_at" in response.context["form"].errors
        response = operator.post(url("maintenance_schedule"), {**data, "short_notice_reason": "Vendor zero-day"})
    maintenance = PlannedMaintenance.objects.get()
    assert response.status_code == 302 and response["Location"] == url("maintenance_detail", maintenance.pk)
    assert maintenance.status == MaintenanceStatus.PROPOSED and maintenance.notice_working_days == 2
    assert maintenance.start_at == dt.datetime(2025, 6, 20, 21, 0, tzinfo=dt.UTC)  # 22:00 BST
    # Proposed maintenance is DCC's until announced.
    assert supplier.get(url("maintenance_detail", maintenance.pk)).status_code == 404
    page = operator.get(url("maintenance_detail", maintenance.pk)).content.decode()
    # Dates one way across the site, with their zone (issue 17).
    assert "20 Jun 2025 22:00 BST" in page and "21 Jun 2025 02:00 BST" in page and "BST" in page
    assert "Vendor zero-day" in page and "2 working days" in page and "DSP data service" in page
    # Approval is a DCC administrator's; it cannot be announced before.
    assert operator.post(url("maintenance_approve", maintenance.pk)).status_code == 403
    response = operator.post(url("maintenance_announce", maintenance.pk))
    assert response.status_code == 400 and "must be approved" in response.content.decode()
    assert client_for(second_dcc_admin).post(url("maintenance_approve", maintenance.pk)).status_code == 302
    maintenance.refresh_from_db()
    assert maintenance.status == MaintenanceStatus.APPROVED and maintenance.approved_by == second_dcc_admin
    response = operator.post(url("maintenance_announce", maintenance.pk))
    assert response.status_code == 302
    maintenance.refresh_from_db()
    alert = maintenance.alert
    assert maintenance.status == MaintenanceStatus.ANNOUNCED and alert is not None
    assert alert.title == "Planned maintenance: DSP patching" and list(alert.components.all()) == [components["dsp"]]
    assert alert.regions == ["north", "south"] and alert.expected_resolution_at == maintenance.end_at
    page = supplier.get(url("maintenance_detail", maintenance.pk)).content.decode()
    assert url("alert_detail", alert.pk) in page and url("maintenance_cancel", maintenance.pk) not in page
    assert url("maintenance_detail", maintenance.pk) in supplier.get(url("alert_detail", alert.pk)).content.decode()
    assert maintenance.reference in supplier.get(url("maintenance_list")).content.decode()
    # Cancelling closes its alert; without a reason it names the field.
    response = operator.post(url("maintenance_cancel", maintenance.pk), {"reason": ""})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    assert operator.post(url("maintenance_cancel", maintenance.pk), {"reason": "Vendor fixed it"}).status_code == 302
    alert.refresh_from_db()
    assert alert.closed_at is not None


def test_the_scheduler_cannot_approve_their_own_maintenance(components, dcc_admin, client_for):
    admin = client_for(dcc_admin)
    with time_machine.travel(NOON, tick=False):
        admin.post(url("maintenance_schedule"), {**SCHEDULE, "components": [components["dsp"].pk],
                                                 "start_at": "2025-07-20T22:00", "end_at": "2025-07-21T02:00"})
    maintenance = PlannedMaintenance.objects.get()
    assert maintenance.short_notice_reason == "" and maintenance.notice_working_days >= 10
    response = admin.post(url("maintenance_approve", maintenance.pk))
    assert response.status_code == 400 and "someone other than the person who scheduled it" in response.content.decode()
    maintenance.refresh_from_db()
    assert maintenance.status == MaintenanceStatus.PROPOSED


def test_calendar_feed_of_announced_maintenance_parses(components, dcc_admin, second_dcc_admin, supplier_a,
                                                       client_for, client):
    with time_machine.travel(NOON, tick=False):
        announced = services.maintenance_schedule(
            actor=dcc_admin, title="Gateway upgrade", description="Version 2; expect; commas, too",
            components=[components["dugc"]], start_at=dt.datetime(2025, 10, 25, 23, 0, tzinfo=LONDON),
            end_at=dt.datetime(2025, 10, 26, 3, 0, tzinfo=LONDON))  # across the clock change
        services.maintenance_approve(actor=second_dcc_admin, maintenance=announced)
        services.maintenance_announce(actor=dcc_admin, maintenance=announced)
        services.maintenance_schedule(actor=dcc_admin, title="Only proposed", description="x",
                                      components=[components["dsp"]], start_at=NOON + dt.timedelta(days=30),
                                      end_at=NOON + dt.timedelta(days=30, hours=1))
    response = client_for(supplier_a).get(url("maintenance_feed"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == [f"{announced.reference} Gateway upgrade"]
    event = events[0]
    assert event.decoded("dtstart") == announced.start_at and event.decoded("dtend") == announced.end_at
    assert event["dtstart"].params["TZID"] == "Europe/London"
    assert "DCC User Gateway" in str(event["description"]) and "commas, too" in str(event["description"])
    assert list(calendar.walk("VTIMEZONE"))
    # A calendar program: the person's token instead of a session; without either, the login page.
    assert client.get(url("maintenance_feed")).status_code == 302
    api_token = api_token_get_or_create(user=supplier_a).key
    assert client.get(url("maintenance_feed") + f"?token={api_token}").status_code == 302  # not a feed token
    token = feed_token_issue(user=supplier_a)
    assert client.get(url("maintenance_feed") + f"?token={token}").status_code == 200
    assert client.get(url("maintenance_feed") + "?token=wrong").status_code == 302


# --- self-service reports --------------------------------------------------------------------

@pytest.fixture
def estate(orgs):
    """A's meters, hubs and traffic in June 2025; B's meter on A's hub and B's own requests."""
    catalogue.load(ServiceRequestVariant)
    first, second = list(ServiceRequestVariant.objects.order_by("sort_order", "code"))[:2]
    model = inventory_services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME",
                                                   firmware_versions=["1.0", "2.1"])
    a, b = orgs["SUPA"], orgs["SUPB"]
    hub = device(a, DeviceType.CHF, status="commissioned")
    device(a, DeviceType.CHF, status="whitelisted", region="south")
    meter = device(a, DeviceType.ESME, status="commissioned", hub=hub, model=model, firmware_version="2.1",
                   mpxn="2200012345671")
    device(a, DeviceType.ESME, status="pending", model=model, firmware_version="1.0", region="central")
    b_meter = device(b, DeviceType.ESME, status="commissioned", hub=hub, model=model, firmware_version="2.1",
                     mpxn="1900098765435")
    june = dt.datetime(2025, 6, 10, 9, 0, tzinfo=LONDON)
    made = [ServiceRequest(request_id=f"{org.code}:{n}", srv=srv, organisation=org, device=d,
                           measurement_type=srv.measurement_type, received_at=june + dt.timedelta(hours=n),
                           state="responded", outcome="I0", responded_at=june + dt.timedelta(hours=n, seconds=2))
            for n, (org, srv, d) in enumerate([(a, first, meter), (a, first, meter), (a, second, meter),
                                               (b, first, b_meter), (b, second, b_meter)])]
    ServiceRequest.objects.bulk_create(made)
    Alert.objects.bulk_create([Alert(alert_id="A:1", alert_code="0x8F3A", organisation=a, device=meter,
                                     raised_at=june), Alert(alert_id="B:1", alert_code="0x8F3B", organisation=b,
                                                            device=b_meter, raised_at=june)])
    return {"a": a, "b": b, "meter": meter, "b_meter": b_meter, "srvs": (first, second)}


def _filters(kind, estate):
    """Each report's filters as the page takes them, and as the report function takes them."""
    meter = estate["meter"]
    return {
        ReportKind.RSMI_001: ({"status": "commissioned"}, {"status": "commissioned"}),
        ReportKind.RSMI_002: ({"device_type": "ESME"}, {"device_type": "ESME"}),
        ReportKind.RSMI_003: ({}, {}),
        ReportKind.RSMI_004: ({"region": "north"}, {"region": "north"}),
        ReportKind.RSAT_001: ({"month": "2025-06"}, {"month": dt.date(2025, 6, 1)}),
        ReportKind.RSAT_002: ({"device": meter.device_id.replace("-", "").lower(), "start": "2025-06-01",
                               "end": "2025-06-30"},
                              {"device": meter, "start": dt.datetime(2025, 6, 1, tzinfo=LONDON),
                               "end": dt.datetime(2025, 7, 1, tzinfo=LONDON)}),
    }[kind]


FUNCTIONS = {ReportKind.RSMI_001: reports.installation_status, ReportKind.RSMI_002: reports.by_firmware,
             ReportKind.RSMI_003: reports.by_model, ReportKind.RSMI_004: reports.hubs,
             ReportKind.RSAT_001: reports.monthly_transactions, ReportKind.RSAT_002: reports.device_transactions}


@pytest.mark.parametrize("page", REPORT_PAGES, ids=lambda p: p.kind.value)
def test_each_report_pages_csv_is_the_report_of_the_users_own_organisation(
        page, estate, supplier_a, supplier_b, dcc_operator, client_for):
    query, arguments = _filters(page.kind, estate)
    expected = FUNCTIONS[page.kind](reports.report_scope(supplier_a), **arguments).csv()
    assert expected.count(b"\n") >= 2, "the report has rows to compare"
    client = client_for(supplier_a)
    response = client.get(url(page.url_name), {**query, "export": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f'filename="{page.kind.value}_SUPA' in response["Content-Disposition"]
    body = streamed(response)
    assert body == expected
    for foreign in (estate["b_meter"].device_id, "1900098765435", "SUPB:", "B:1"):
        assert foreign.encode() not in body
    # Naming another supplier changes nothing: a supplier reads its own organisation's report.
    assert streamed(client.get(url(page.url_name), {**query, "export": "csv", "organisation": "SUPB"})) == expected
    # DCC names the organisation and reads the same report.
    operator = client_for(dcc_operator)
    assert streamed(operator.get(url(page.url_name), {**query, "organisation": "SUPA", "export": "csv"})) == expected
    asked = operator.get(url(page.url_name))
    assert asked.status_code == 200 and asked.context["choose"]
    # On screen: the same rows, a page at a time.
    screen = client.get(url(page.url_name), query)
    assert screen.status_code == 200
    first = list(FUNCTIONS[page.kind](reports.report_scope(supplier_a), **arguments).rows)
    assert screen.context["rows"] == first[:100] and screen.context["organisation"] == estate["a"]
    assert estate["b_meter"].device_id not in screen.content.decode()


def test_report_pages_refuse_bad_filters_and_other_peoples_devices(estate, supplier_a, sdag_member, client_for):
    client = client_for(supplier_a)
    response = client.get(url("report_device-transactions"), {"device": estate["b_meter"].device_id,
                                                                "start": "2025-06-01", "end": "2025-06-30"})
    assert response.status_code == 400
    assert "not one of Albion Energy's devices" in response.context["form"].errors["device"][0]
    response = client.get(url("report_device-transactions"), {"device": "not-a-device"})
    assert response.status_code == 400 and "device" in response.context["form"].errors
    response = client.get(url("report_monthly-transactions"), {"month": "June"})
    assert response.status_code == 400 and "month" in response.context["form"].errors
    assert client_for(sdag_member).get(url("report_installation-status")).status_code == 403
    assert client_for(sdag_member).get(url("report_index")).status_code == 403
    index = client.get(url("report_index")).content.decode()
    assert all(url(p.url_name) in index for p in REPORT_PAGES)


def test_on_screen_report_is_paginated_without_counting(orgs, supplier_a, client_for):
    for _ in range(105):
        device(orgs["SUPA"], DeviceType.ESME, status="commissioned")
    client = client_for(supplier_a)
    first = client.get(url("report_installation-status"))
    assert len(first.context["rows"]) == 100 and first.context["has_next"]
    second = client.get(url("report_installation-status"), {"page": "2"})
    assert len(second.context["rows"]) == 5 and not second.context["has_next"]
    assert second.context["first_row"] == 101


# --- forecasts -------------------------------------------------------------------------------

def test_forecasts_form_refuses_bad_input_and_writes_nothing(estate, supplier_a, supplier_b, dcc_operator,
                                                             client_for):
    first, second = estate["srvs"]
    client = client_for(supplier_a)
    page = client.get(url("forecast_page"), {"month": "2025-06"})
    assert page.status_code == 200 and f"forecast_{first.code}" in page.content.decode()
    response = client.post(url("forecast_page") + "?month=2025-06",
                           {f"forecast_{first.code}": "12", f"forecast_{second.code}": "lots"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert f"{second.code}: give a whole number" in str(errors[f"forecast_{second.code}"])
    assert "Nothing was saved" in response.content.decode()
    assert not UsageForecast.objects.exists()
    response = client.post(url("forecast_page") + "?month=2025-06", {f"forecast_{first.code}": "-3"})
    assert response.status_code == 400 and "cannot be negative" in str(response.context["form"].errors)
    response = client.post(url("forecast_page") + "?month=2025-06",
                           {f"forecast_{first.code}": "4", f"forecast_{second.code}": ""})
    assert response.status_code == 302
    row = UsageForecast.objects.get()
    assert (row.organisation, row.month, row.srv, row.forecast) == (estate["a"], dt.date(2025, 6, 1), first, 4)
    # The monthly transactions report sets the actual count against it.
    rsat = client.get(url("report_monthly-transactions"), {"month": "2025-06"})
    assert (first.code, first.name, 2, 4, -2, "50.0") in rsat.context["rows"]
    # B sees none of A's forecasts; DCC enters them for the service user it names.
    assert 'value="4"' not in client_for(supplier_b).get(url("forecast_page"), {"month": "2025-06"}).content.decode()
    operator = client_for(dcc_operator)
    assert operator.get(url("forecast_page")).context["choose"]
    response = operator.post(url("forecast_page") + "?month=2025-06&organisation=SUPB",
                             {f"forecast_{second.code}": "7"})
    assert response.status_code == 302
    assert UsageForecast.objects.get(organisation=estate["b"]).forecast == 7


# --- monthly deliveries ----------------------------------------------------------------------

def test_deliveries_listed_and_downloaded_by_their_owner_only(estate, supplier_a, supplier_b, dcc_operator,
                                                              sdag_member, client_for):
    june = dt.date(2025, 6, 1)
    ours = services.report_deliver(organisation=estate["a"], kind=ReportKind.RSMI_001, month=june)
    theirs = services.report_deliver(organisation=estate["b"], kind=ReportKind.RSMI_001, month=june)
    client = client_for(supplier_a)
    page = client.get(url("delivery_list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert url("delivery_download", ours.pk) in body and url("delivery_download", theirs.pk) not in body
    assert "SUPB" not in body
    response = client.get(url("delivery_download", ours.pk))
    assert response.status_code == 200 and 'filename="RSMI_001_SUPA_2025-06.csv"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    ours.file.open("rb")
    assert content == ours.file.read() and estate["meter"].device_id.encode() in content
    ours.file.close()
    assert client.get(url("delivery_download", theirs.pk)).status_code == 404
    assert client_for(supplier_b).get(url("delivery_download", ours.pk)).status_code == 404
    assert client_for(dcc_operator).get(url("delivery_download", theirs.pk)).status_code == 200
    assert client_for(sdag_member).get(url("delivery_list")).status_code == 403
    pending = SelfServiceReportDelivery.objects.create(organisation=estate["a"], kind=ReportKind.RSMI_002, month=june,
                                                       due_on=dt.date(2025, 7, 14))
    assert client.get(url("delivery_download", pending.pk)).status_code == 404


# --- the dashboard tile and navigation -------------------------------------------------------

def test_service_status_tile_and_navigation(components, dcc_operator, supplier_a, client_for):
    services.component_set_status(actor=dcc_operator, component=components["dsp"], status="degraded")
    services.service_alert_publish(actor=dcc_operator, title="DSP slow", description="x",
                                   components=[components["dsp"]])
    client = client_for(supplier_a)
    tile = client.get(reverse("dashboard_tile", args=["service_status"]))
    assert tile.status_code == 200
    body = tile.content.decode()
    assert "DSP data service" in body and "Degraded performance" in body and "1</span> active service alert" in body
    home = client.get(reverse("home")).content.decode()
    for name in ("status", "alert_list", "maintenance_list", "report_index", "delivery_list", "forecast_page"):
        assert f'href="{url(name)}"' in home

"""The service desk's demo data: loaded after the apps before it (as load_demo does), twice (it is
idempotent), with every figure the issue asks for present, told through the services (timelines,
pauses, events, audit), and the monthly report of last month showing its incident measures and
availability."""
import datetime as dt

import pytest
import time_machine
from auditlog.models import LogEntry

from adapter import demo as adapter_demo
from inventory import demo as inventory_demo
from portal import demo as portal_demo
from servicedesk import demo, documents, selectors
from servicedesk.choices import IncidentStatus, MaintenanceStatus, PauseReason
from servicedesk.clock import LONDON
from servicedesk.models import (
    ClockPause,
    ComponentStatusChange,
    Incident,
    MajorIncidentReport,
    Outage,
    PlannedMaintenance,
    Problem,
    ServiceAlert,
    ServiceComponent,
    UsageForecast,
)
from slas import incidents as incident_measures
from slas import report

NOW = dt.datetime(2025, 6, 18, 11, 0, tzinfo=LONDON)  # a Wednesday
MAY = dt.date(2025, 5, 1)


@pytest.fixture
def loaded(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(NOW, tick=False):
        portal_demo.load()
        inventory_demo.load()
        adapter_demo.load(requests=300)
        demo.load()
        counts = {model: model.objects.count() for model in (
            Incident, ServiceAlert, PlannedMaintenance, Outage, ComponentStatusChange, MajorIncidentReport,
            Problem, UsageForecast, ClockPause)}
        audit = LogEntry.objects.count()
        demo.load()  # idempotent: nothing new
        assert {model: model.objects.count() for model in counts} == counts
        assert LogEntry.objects.count() == audit
    return counts


def test_the_demo_tells_a_realistic_incident_log(loaded):
    incidents = list(Incident.objects.select_related("resolver"))
    assert len(incidents) >= 12
    assert {i.category for i in incidents} == {1, 2, 3, 4, 5}
    assert len({i.resolver.code for i in incidents if i.resolver}) >= 4
    statuses = {i.status for i in incidents}
    assert {IncidentStatus.NEW, IncidentStatus.AWAITING_USER, IncidentStatus.RESOLVED, IncidentStatus.CLOSED,
            IncidentStatus.ASSIGNED} <= statuses
    assert any(i.reopened_count for i in incidents)
    assert ClockPause.objects.filter(reason=PauseReason.RESOLVED).exists()  # the re-opened one
    assert ClockPause.objects.filter(reason=PauseReason.AWAITING_USER, ended_at__isnull=True).exists()
    repeat = next(i for i in incidents if i.repeat_of_id)
    assert repeat.problem is not None and repeat.problem.incidents.count() == 2 and repeat.problem.root_cause
    assert any(i.interested_parties.exists() for i in incidents)
    assert any(i.caller and i.logged_by_id for i in incidents)  # logged by the Service Desk for a caller
    with time_machine.travel(NOW, tick=False):
        clocks = selectors.with_clocks(Incident.objects.all())
    assert any(c.breached for _, c in clocks) and any(not c.breached for _, c in clocks)
    # every incident's timeline starts with its raising, in time order
    for incident in incidents:
        updates = list(incident.updates.all())
        assert updates[0].data["to"] == "new" and updates[0].created_at == incident.raised_at
        assert [u.created_at for u in updates] == sorted(u.created_at for u in updates)


def test_the_major_incident_has_its_alert_outage_and_report(loaded):
    major = Incident.objects.get(is_major=True)
    assert major.category == 1 and major.proposed_category == 2
    alert = major.service_alerts.get()
    assert alert.closed_at is not None and alert.updates.count() >= 2
    assert major.outages.exists()
    versions = list(major.major_reports.order_by("version"))
    assert [r.version for r in versions] == [1, 2] and versions[1].reason
    assert documents.major_report_pdf(versions[-1]).startswith(b"%PDF")


def test_status_alerts_maintenance_and_forecasts(loaded):
    components = list(ServiceComponent.objects.all())
    assert {c.key for c in components} >= {"dsp", "dcc-user-gateway", "csp-north", "csp-central", "csp-south",
                                           "portal"}
    oldest = ComponentStatusChange.objects.order_by("changed_at").first().changed_at
    assert NOW - oldest >= dt.timedelta(days=60)
    assert ComponentStatusChange.objects.filter(changed_at__lt=NOW - dt.timedelta(days=60)).count() >= len(components)
    assert ServiceAlert.objects.filter(closed_at__isnull=True).exists()
    assert ServiceAlert.objects.filter(closed_at__isnull=False).exists()
    windows = {w.title: w for w in PlannedMaintenance.objects.all()}
    assert {w.status for w in windows.values()} >= {MaintenanceStatus.ANNOUNCED, MaintenanceStatus.APPROVED}
    assert any(w.short_notice_reason for w in windows.values())
    assert all(w.alert_id for w in windows.values() if w.status == MaintenanceStatus.ANNOUNCED)
    assert UsageForecast.objects.filter(month=MAY).values("organisation").distinct().count() == 2
    assert UsageForecast.objects.filter(month=dt.date(2025, 6, 1)).exists()


def test_last_months_report_shows_the_incident_measures_and_availability(loaded):
    with time_machine.travel(NOW, tick=False):
        incident_measures.refresh_month(MAY)
        built = report.build(MAY)
    measured = [r for r in built["incidents"] if r["measured"]]
    assert {r["category"] for r in measured} == {1, 2, 3, 5}
    assert any(r["met"] is False for r in measured) and any(r["met"] for r in measured)
    availability = {a["key"]: a for a in built["availability"]}
    assert availability["dsp"]["maintenance"] == 180 and availability["dsp"]["outage"] == 15
    assert availability["dcc-user-gateway"]["percent"] < 100

"""Major incidents and their reports, service alerts, component status, planned maintenance
(notice, approval, announcement) and outages, and incident attachments."""
import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from inventory.choices import DeviceType
from portal.notifications.models import Notification
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from servicedesk import documents, services
from servicedesk.choices import ComponentStatus, MaintenanceStatus
from servicedesk.clock import LONDON
from servicedesk.models import ComponentStatusChange, IncidentAttachment, MajorIncidentReport, ServiceAlert
from tests.inventory.factories import device

WEDNESDAY = dt.datetime(2025, 6, 4, 10, 0, tzinfo=LONDON)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20


# --- major incidents -------------------------------------------------------------------------

def test_flagging_major_publishes_an_alert_and_tells_every_affected_organisation(
        orgs, supplier_a, supplier_b, supplier_c, supplier_c_org, dcc_operator, components, raise_incident):
    device(orgs["SUPB"], region="north")  # B has devices in the north: affected
    device(supplier_c_org, region="south")  # C has none there: not affected
    hook = WebhookEndpoint.objects.create(organisation=orgs["DCC"], name="DCC", url="https://dcc.example/h",
                                          events=["service_alert.published"])
    with time_machine.travel(WEDNESDAY, tick=False):
        incident = raise_incident(supplier_a, regions=["north"], summary="Albion's secret details")
        incident.affected_items.add(components["csp-north"].item)
        with pytest.raises(PermissionDenied):
            services.incident_flag_major(actor=supplier_a, incident=incident)
        alert = services.incident_flag_major(actor=dcc_operator, incident=incident)
    incident.refresh_from_db()
    assert incident.is_major and incident.major_at == WEDNESDAY
    # Due in 5 working days (default): Wednesday 11 June 2025, end of the working day.
    assert incident.major_report_due_at == dt.datetime(2025, 6, 11, 17, 0, tzinfo=LONDON)
    assert alert.incident == incident and alert.reference == "SA000001" and alert.regions == ["north"]
    assert list(alert.components.all()) == [components["csp-north"]]
    # The alert speaks in DCC's words: nothing of what the raiser wrote reaches every user.
    assert "secret" not in alert.title + alert.description
    told = set(Notification.objects.filter(event="service_alert.published").values_list("user__username", flat=True))
    assert {"alice", "bob"} <= told and "carol" not in told
    assert WebhookDelivery.objects.filter(endpoint=hook, event="service_alert.published").count() == 1
    with pytest.raises(ValidationError, match="already a major incident"):
        services.incident_flag_major(actor=dcc_operator, incident=incident)


def test_major_incident_report_versions_and_pdf(orgs, supplier_a, dcc_operator, raise_incident):
    incident = raise_incident(supplier_a)
    with pytest.raises(ValidationError, match="not a major incident"):
        services.major_report_write(actor=dcc_operator, incident=incident, summary="s", timeline="t", impact="i",
                                    root_cause="r", actions="a")
    services.incident_flag_major(actor=dcc_operator, incident=incident)
    with pytest.raises(PermissionDenied):
        services.major_report_write(actor=supplier_a, incident=incident, summary="s", timeline="t", impact="i",
                                    root_cause="r", actions="a")
    first = services.major_report_write(actor=dcc_operator, incident=incident, summary="<script>alert(1)</script>",
                                        timeline="09:00 reads fail\n09:20 CSP North restarts cell 17",
                                        impact="12,000 meters unreachable for 80 minutes", root_cause="Overload",
                                        actions="Add a second carrier")
    with pytest.raises(ValidationError, match="say why version 2"):
        services.major_report_write(actor=dcc_operator, incident=incident, summary="s", timeline="t", impact="i",
                                    root_cause="r", actions="a")
    second = services.major_report_write(actor=dcc_operator, incident=incident, summary="Corrected", timeline="t",
                                         impact="14,000 meters", root_cause="Overload", actions="a",
                                         reason="Impact recounted")
    assert (first.version, second.version) == (1, 2)
    assert MajorIncidentReport.objects.filter(incident=incident).count() == 2
    html = documents.major_report_html(first)
    assert "&lt;script&gt;" in html and "<script>" not in html and "(superseded)" in html
    assert "(superseded)" not in documents.major_report_html(second)
    pdf = documents.major_report_pdf(second)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000
    assert documents.major_report_filename(second) == f"{incident.reference}-major-incident-report-v2.pdf"


# --- alerts and components -------------------------------------------------------------------

def test_service_alerts_are_published_updated_and_closed_by_dcc(orgs, supplier_a, dcc_operator, components):
    with pytest.raises(PermissionDenied):
        services.service_alert_publish(actor=supplier_a, title="x", description="y")
    eta = timezone.now() + dt.timedelta(hours=3)
    alert = services.service_alert_publish(actor=dcc_operator, title="Slow responses in the north",
                                           description="CSP North is investigating", regions=["north"],
                                           components=[components["csp-north"]], expected_resolution_at=eta)
    later = eta + dt.timedelta(hours=2)
    update = services.service_alert_update(actor=dcc_operator, alert=alert, text="Fix being deployed",
                                           expected_resolution_at=later)
    alert.refresh_from_db()
    assert update.alert == alert and alert.expected_resolution_at == later and alert.is_active
    alert = services.service_alert_close(actor=dcc_operator, alert=alert, text="Resolved")
    assert alert.closed_at is not None and not alert.is_active and alert.updates.count() == 2
    with pytest.raises(ValidationError, match="is closed"):
        services.service_alert_update(actor=dcc_operator, alert=alert, text="more")


def test_component_status_changes_are_kept(dcc_operator, supplier_a, components):
    dsp = components["dsp"]
    with pytest.raises(PermissionDenied):
        services.component_set_status(actor=supplier_a, component=dsp, status=ComponentStatus.DEGRADED)
    services.component_set_status(actor=dcc_operator, component=dsp, status=ComponentStatus.DEGRADED, reason="slow")
    services.component_set_status(actor=dcc_operator, component=dsp, status=ComponentStatus.DEGRADED)  # no change
    dsp = services.component_set_status(actor=dcc_operator, component=dsp, status=ComponentStatus.OPERATIONAL)
    assert dsp.status == ComponentStatus.OPERATIONAL
    changes = list(ComponentStatusChange.objects.filter(component=dsp).order_by("changed_at", "id")
                   .values_list("from_status", "to_status"))
    assert changes == [("operational", "degraded"), ("degraded", "operational")]
    with pytest.raises(ValidationError):
        services.component_set_status(actor=dcc_operator, component=dsp, status="on fire")


# --- planned maintenance ---------------------------------------------------------------------

def test_maintenance_notice_approval_and_announcement(orgs, dcc_admin, second_dcc_admin, dcc_operator, supplier_a,
                                                      components):
    monday = dt.datetime(2025, 6, 2, 9, 0, tzinfo=LONDON)
    with time_machine.travel(monday, tick=False):
        soon = dt.datetime(2025, 6, 10, 22, 0, tzinfo=LONDON)  # 6 working days' notice, 10 required
        with pytest.raises(ValidationError) as exc:
            services.maintenance_schedule(actor=dcc_admin, title="DSP patch", description="Security patches",
                                          start_at=soon, end_at=soon + dt.timedelta(hours=3),
                                          components=[components["dsp"]])
        assert "6 working days' notice is less than the 10 required" in str(exc.value)
        with pytest.raises(PermissionDenied):
            services.maintenance_schedule(actor=supplier_a, title="x", description="y", start_at=soon,
                                          end_at=soon + dt.timedelta(hours=1), components=[components["dsp"]])
        with pytest.raises(ValidationError, match="ends after it starts|end after it starts"):
            services.maintenance_schedule(actor=dcc_admin, title="x", description="y", start_at=soon, end_at=soon,
                                          components=[components["dsp"]], short_notice_reason="r")
        urgent = services.maintenance_schedule(actor=dcc_admin, title="DSP patch", description="Security patches",
                                               start_at=soon, end_at=soon + dt.timedelta(hours=3),
                                               components=[components["dsp"]], regions=["north"],
                                               short_notice_reason="Vendor security advisory")
        assert urgent.notice_working_days == 6 and urgent.short_notice_reason == "Vendor security advisory"
        assert urgent.reference == "PM000001" and urgent.status == MaintenanceStatus.PROPOSED
        with pytest.raises(ValidationError, match="must be approved"):
            services.maintenance_announce(actor=dcc_admin, maintenance=urgent)
        with pytest.raises(PermissionDenied):
            services.maintenance_approve(actor=dcc_operator, maintenance=urgent)  # administrators approve
        with pytest.raises(PermissionDenied, match="someone other than"):
            services.maintenance_approve(actor=dcc_admin, maintenance=urgent)
        urgent = services.maintenance_approve(actor=second_dcc_admin, maintenance=urgent)
        assert urgent.status == MaintenanceStatus.APPROVED and urgent.approved_by == second_dcc_admin
        urgent = services.maintenance_announce(actor=dcc_admin, maintenance=urgent)
    assert urgent.status == MaintenanceStatus.ANNOUNCED
    alert = urgent.alert
    assert alert.expected_resolution_at == urgent.end_at and list(alert.components.all()) == [components["dsp"]]
    assert "Tue 10 Jun 2025 22:00 to Wed 11 Jun 2025 01:00 (UK time)" in alert.description
    assert ServiceAlert.objects.count() == 1
    cancelled = services.maintenance_cancel(actor=dcc_admin, maintenance=urgent, reason="Patch withdrawn")
    assert cancelled.status == MaintenanceStatus.CANCELLED
    alert.refresh_from_db()
    assert alert.closed_at is not None


def test_maintenance_scheduled_event_goes_out_on_announcement(orgs, dcc_admin, second_dcc_admin, components):
    hook = WebhookEndpoint.objects.create(organisation=orgs["DCC"], name="DCC", url="https://dcc.example/h",
                                          events=["maintenance.scheduled"])
    start = timezone.now() + dt.timedelta(days=40)
    maintenance = services.maintenance_schedule(actor=dcc_admin, title="Gateway upgrade", description="v2",
                                                start_at=start, end_at=start + dt.timedelta(hours=1),
                                                components=[components["dugc"]])
    services.maintenance_approve(actor=second_dcc_admin, maintenance=maintenance)
    assert not WebhookDelivery.objects.filter(endpoint=hook).exists()
    services.maintenance_announce(actor=dcc_admin, maintenance=maintenance)
    delivery = WebhookDelivery.objects.get(endpoint=hook)
    assert delivery.payload["data"]["reference"] == maintenance.reference


# --- outages ---------------------------------------------------------------------------------

def test_outages_are_recorded_and_ended(dcc_operator, supplier_a, supplier_b, components, raise_incident):
    incident = raise_incident(supplier_a)
    start = timezone.now() - dt.timedelta(hours=2)
    with pytest.raises(PermissionDenied):
        services.outage_record(actor=supplier_a, component=components["dsp"], started_at=start)
    outage = services.outage_record(actor=dcc_operator, component=components["dsp"], started_at=start,
                                    incident=incident, description="DSP database failover")
    assert outage.ended_at is None and list(incident.outages.all()) == [outage]
    with pytest.raises(ValidationError):
        services.outage_end(actor=dcc_operator, outage=outage, ended_at=start - dt.timedelta(minutes=1))
    outage = services.outage_end(actor=dcc_operator, outage=outage, ended_at=start + dt.timedelta(minutes=40))
    assert outage.ended_at == start + dt.timedelta(minutes=40)


# --- attachments -----------------------------------------------------------------------------

def test_attachments_are_size_limited_and_type_checked_by_content(settings, supplier_a, supplier_b, dcc_operator,
                                                                  dcc_admin, raise_incident):
    incident = raise_incident(supplier_a)
    saved = services.incident_attach(actor=supplier_a, incident=incident, filename="C:\\logs\\trace one.pdf",
                                     content=PDF)
    assert saved.filename == "trace_one.pdf" and saved.content_type == "application/pdf" and saved.size == len(PDF)
    assert saved.file.name.startswith(f"servicedesk/incidents/{incident.reference}/")
    with saved.file.open("rb") as handle:
        assert handle.read() == PDF
    csv = services.incident_attach(actor=supplier_a, incident=incident, filename="reads.csv",
                                   content=b"device,outcome\n00-DB-12-34-56-78-90-A0,E21\n")
    assert csv.content_type == "text/plain"
    refused = {
        "setup.exe.txt": b"MZ\x90\x00\x03\x00\x00\x00",  # a program renamed as text
        "page.txt": b"<!DOCTYPE html><html><script>steal()</script></html>",  # a web page as text
        "picture.pdf": PNG,  # content and name disagree
        "macro.xlsm": _zip({"[Content_Types].xml": "x", "xl/vbaProject.bin": "x"}),
        "nothing.pdf": b"",
    }
    for name, content in refused.items():
        with pytest.raises(ValidationError) as exc:
            services.incident_attach(actor=supplier_a, incident=incident, filename=name, content=content)
        assert "file" in exc.value.message_dict, name
    workbook = services.incident_attach(actor=supplier_a, incident=incident, filename="meters.xlsx",
                                        content=_zip({"[Content_Types].xml": "x", "xl/workbook.xml": "x"}))
    assert workbook.content_type.endswith("spreadsheetml.sheet")
    services.policy_set(actor=dcc_admin, attachment_max_bytes=2048)
    with pytest.raises(ValidationError, match="largest accepted is 2,048 bytes"):
        services.incident_attach(actor=supplier_a, incident=incident, filename="big.log", content=b"x" * 2049)
    with pytest.raises(PermissionDenied):
        services.incident_attach(actor=supplier_b, incident=incident, filename="b.pdf", content=PDF)
    with pytest.raises(PermissionDenied):
        services.incident_attach(actor=supplier_a, incident=incident, filename="a.pdf", content=PDF,
                                 visibility="internal")
    assert IncidentAttachment.objects.filter(incident=incident).count() == 3


def _zip(files):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_affected_organisations_without_regions_are_every_service_user(orgs, supplier_c_org, dcc_operator,
                                                                        supplier_a, raise_incident):
    from servicedesk.selectors import affected_organisations

    incident = raise_incident(supplier_a)
    assert {o.code for o in affected_organisations(incident)} == {"SUPA", "SUPB", "SUPC"}
    device(orgs["SUPB"], DeviceType.ESME, region="south")
    regional = raise_incident(supplier_a, regions=["south"])
    assert {o.code for o in affected_organisations(regional)} == {"SUPA", "SUPB"}

"""The self-service reports, each CSV checked against a direct computation over every record
(nothing of another supplier in it), the month taken in London time, the monthly delivery by
e-mail with its file, and availability per component with planned maintenance excluded."""
import csv
import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from adapter import catalogue
from adapter.models import Alert, ServiceRequest, ServiceRequestVariant
from inventory import services as inventory_services
from inventory.choices import DeviceType
from inventory.models import Device
from servicedesk import reports, selectors, services, tasks
from servicedesk.choices import DeliveryState, MaintenanceStatus, ReportKind
from servicedesk.clock import LONDON
from servicedesk.models import PlannedMaintenance, SelfServiceReportDelivery
from tests.inventory.factories import device

UTC = dt.UTC


def parsed(report):
    """The main table of the report's CSV (RSAT_001's further sections follow an empty line)."""
    text = report.csv().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == report.headers
    return list(itertools.takewhile(bool, rows[1:]))


def strings(rows):
    return [["" if v is None else str(v) for v in row] for row in rows]


@pytest.fixture
def estate(orgs):
    """Two suppliers' devices: A's hubs with meters and an IHD, A's gas meter, and B's meter joined
    to one of A's hubs (B's device: never in A's reports)."""
    e470 = inventory_services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME",
                                                  firmware_versions=["1.0", "2.1"])
    g350 = inventory_services.device_model_upsert(manufacturer_id="4321", model_id="G350", device_type="GSME")
    hub_model = inventory_services.device_model_upsert(manufacturer_id="9999", model_id="CH1", device_type="CHF")
    a, b = orgs["SUPA"], orgs["SUPB"]
    hub1 = device(a, DeviceType.CHF, status="commissioned", model=hub_model, firmware_version="3.0")
    hub2 = device(a, DeviceType.CHF, status="installed_not_commissioned", model=hub_model)
    hub3 = device(a, DeviceType.CHF, status="whitelisted", region="south")
    meters = [
        device(a, DeviceType.ESME, status="commissioned", hub=hub1, model=e470, firmware_version="2.1",
               mpxn="2200012345671"),
        device(a, DeviceType.ESME, status="commissioned", hub=hub1, model=e470, firmware_version="1.0"),
        device(a, DeviceType.ESME, status="pending", model=e470, firmware_version="2.1"),
        device(a, DeviceType.GSME, status="commissioned", hub=hub2, model=g350, mpxn="7412365"),
    ]
    ihd = device(a, DeviceType.IHD, status="not_applicable", hub=meters[0])
    b_meter = device(b, DeviceType.ESME, status="commissioned", hub=hub1, model=e470, firmware_version="2.1")
    device(b, DeviceType.CHF, status="commissioned")
    return {"a": a, "b": b, "hubs": [hub1, hub2, hub3], "meters": meters, "ihd": ihd, "b_meter": b_meter}


def model_parts(d):
    return (d.model.manufacturer_id, d.model.model_id) if d.model else ("", "")


def test_rsmi_001_installation_status_against_direct_computation(estate, supplier_a, supplier_b):
    source = reports.report_scope(supplier_a)
    rows = parsed(reports.installation_status(source))
    expected = []
    for d in Device.objects.order_by("id"):
        if d.supplier_id == estate["a"].pk and d.device_type in ("ESME", "GSME"):
            expected.append([d.device_type, d.device_id, *model_parts(d), d.firmware_version, d.status,
                             f"{d.status_changed_at.astimezone(LONDON):%Y-%m-%d}", d.mpxn,
                             d.hub.device_id if d.hub else "", d.region])
    assert rows == strings(expected) and len(rows) == 4
    assert estate["b_meter"].device_id not in str(rows)
    filtered = parsed(reports.installation_status(source, status="commissioned", device_type="ESME"))
    assert filtered == [r for r in strings(expected) if r[0] == "ESME" and r[5] == "commissioned"]


def test_rsmi_002_and_003_counts_against_direct_computation(estate, supplier_a):
    source = reports.report_scope(supplier_a)
    mine = [d for d in Device.objects.select_related("model") if d.supplier_id == estate["a"].pk]
    by_firmware, by_model = {}, {}
    for d in mine:
        key = (d.device_type, *model_parts(d), d.firmware_version, d.status)
        by_firmware[key] = by_firmware.get(key, 0) + 1
        key = (d.device_type, *model_parts(d), d.status)
        by_model[key] = by_model.get(key, 0) + 1
    assert sorted(parsed(reports.by_firmware(source))) == sorted(strings([(*k, n) for k, n in by_firmware.items()]))
    assert sorted(parsed(reports.by_model(source))) == sorted(strings([(*k, n) for k, n in by_model.items()]))
    assert sum(int(r[-1]) for r in parsed(reports.by_model(source))) == len(mine)
    esme_only = parsed(reports.by_model(source, device_type="ESME"))
    assert {r[0] for r in esme_only} == {"ESME"}


def test_rsmi_004_hubs_and_their_devices_against_direct_computation(estate, supplier_a):
    source = reports.report_scope(supplier_a)
    expected = []
    for hub in Device.objects.filter(device_type="CHF").order_by("id"):
        if hub.supplier_id != estate["a"].pk:
            continue
        members = [d for d in Device.objects.order_by("id") if d.hub_id == hub.pk and d.supplier_id == hub.supplier_id]
        for d in members or [None]:
            expected.append([hub.device_id, hub.status, hub.region, *(
                (d.device_id, d.device_type, d.status) if d else ("", "", ""))])
    rows = parsed(reports.hubs(source))
    assert rows == strings(expected)
    assert estate["b_meter"].device_id not in str(rows) and estate["ihd"].device_id not in str(rows)
    assert [r[0] for r in parsed(reports.hubs(source, region="south"))] == [estate["hubs"][2].device_id]


@pytest.fixture
def traffic(estate, srvs):
    """Requests of A and B around June 2025 in London time, and A's forecasts."""
    a, b = estate["a"], estate["b"]
    first, second, third = srvs[:3]
    meter = estate["meters"][0]
    times = {
        "may_last": dt.datetime(2025, 5, 31, 23, 30, tzinfo=LONDON),  # 22:30 UTC: May
        "june_first": dt.datetime(2025, 6, 1, 0, 10, tzinfo=LONDON),  # 31 May 23:10 UTC: June
        "june_mid": dt.datetime(2025, 6, 15, 12, 0, tzinfo=LONDON),
        "june_last": dt.datetime(2025, 6, 30, 23, 50, tzinfo=LONDON),  # 22:50 UTC: June
        "july_first": dt.datetime(2025, 7, 1, 0, 5, tzinfo=LONDON),  # 30 June 23:05 UTC: July
    }
    plan = [(a, first, "may_last"), (a, first, "june_first"), (a, first, "june_mid"), (a, second, "june_last"),
            (a, first, "july_first"), (b, first, "june_mid"), (b, third, "june_mid")]
    made = []
    for n, (org, srv, when) in enumerate(plan):
        made.append(ServiceRequest(request_id=f"{org.code}:{n}", srv=srv, organisation=org,
                                   device=meter if org == a else estate["b_meter"],
                                   measurement_type=srv.measurement_type, received_at=times[when], state="responded",
                                   outcome="I0", responded_at=times[when] + dt.timedelta(seconds=3)))
    ServiceRequest.objects.bulk_create(made)
    Alert.objects.bulk_create([
        Alert(alert_id="A:1", alert_code="0x8F3A", organisation=a, device=meter, raised_at=times["june_mid"],
              delivered_at=times["june_mid"] + dt.timedelta(seconds=9)),
        Alert(alert_id="A:2", alert_code="0x8F3E", organisation=a, device=estate["meters"][1],
              raised_at=times["june_mid"]),
    ])
    june = dt.date(2025, 6, 1)
    return {"june": june, "srvs": (first, second, third), "times": times, "meter": meter}


@pytest.fixture
def srvs(db):
    catalogue.load(ServiceRequestVariant)
    return list(ServiceRequestVariant.objects.order_by("sort_order", "code"))


def test_rsat_001_monthly_transactions_against_forecast(estate, traffic, supplier_a, dcc_operator):
    first, second, third = traffic["srvs"]
    june = traffic["june"]
    services.forecast_set(actor=supplier_a, organisation=estate["a"], month=june, srv=first, forecast=4)
    services.forecast_set(actor=supplier_a, organisation=estate["a"], month=june, srv=third, forecast=10)
    with pytest.raises(PermissionDenied):
        services.forecast_set(actor=supplier_a, organisation=estate["b"], month=june, srv=first, forecast=1)
    source = reports.report_scope(supplier_a)
    rows = parsed(reports.monthly_transactions(source, month=june))
    start = dt.datetime(2025, 6, 1, tzinfo=LONDON)
    end = dt.datetime(2025, 7, 1, tzinfo=LONDON)
    counts = {}
    for request in ServiceRequest.objects.select_related("srv"):
        if request.organisation_id == estate["a"].pk and start <= request.received_at < end:
            counts[request.srv.code] = counts.get(request.srv.code, 0) + 1
    assert counts == {first.code: 2, second.code: 1}  # the London month, not the UTC one
    by_srv = {r[0]: r for r in rows}
    assert by_srv[first.code][2:] == ["2", "4", "-2", "50.0"]
    assert by_srv[second.code][2:] == ["1", "", "", ""]
    assert by_srv[third.code][2:] == ["0", "10", "-10", "0.0"]
    assert rows[-1] == ["TOTAL", "All service requests", "3", "14", "-11", "21.4"]
    # DCC reads any organisation's report by naming it; a supplier only its own.
    assert parsed(reports.monthly_transactions(reports.report_scope(dcc_operator, estate["a"]), month=june)) == rows
    with pytest.raises(PermissionDenied):
        reports.report_scope(dcc_operator)
    with pytest.raises(PermissionDenied):
        reports.report_scope(supplier_a, estate["b"])


def test_rsat_002_one_devices_transactions_against_direct_computation(estate, traffic, supplier_a, supplier_b):
    meter = traffic["meter"]
    start, end = dt.datetime(2025, 6, 1, tzinfo=LONDON), dt.datetime(2025, 7, 1, tzinfo=LONDON)
    report = reports.device_transactions(reports.report_scope(supplier_a), device=meter, start=start, end=end)
    rows = parsed(report)
    expected = []
    for r in ServiceRequest.objects.select_related("srv").filter(device=meter):
        if r.organisation_id == estate["a"].pk and start <= r.received_at < end:
            expected.append([r.received_at.astimezone(LONDON).isoformat(timespec="seconds"), "request", r.request_id,
                             r.srv.code, r.state, r.outcome,
                             r.responded_at.astimezone(LONDON).isoformat(timespec="seconds")])
    for alert in Alert.objects.filter(device=meter):
        expected.append([alert.raised_at.astimezone(LONDON).isoformat(timespec="seconds"), "alert", alert.alert_id,
                         alert.alert_code, "delivered", "",
                         alert.delivered_at.astimezone(LONDON).isoformat(timespec="seconds")])
    assert rows == sorted(expected) and len(rows) == 4
    assert report.filename(estate["a"]) == f"RSAT_002_SUPA_{meter.device_id}_2025-06-01_2025-07-01"
    with pytest.raises(PermissionDenied):
        reports.device_transactions(reports.report_scope(supplier_b), device=meter, start=start, end=end)


def test_monthly_delivery_emails_the_files_by_the_tenth_working_day(estate, traffic, supplier_a, supplier_b):
    # 1 July 2025 is a Tuesday, the first working day: June's reports go out that morning.
    with time_machine.travel(dt.datetime(2025, 6, 30, 6, 30, tzinfo=LONDON), tick=False):
        assert tasks.reports_monthly_deliver() > 0  # 30 June: May's reports
    mail.outbox.clear()
    SelfServiceReportDelivery.objects.all().delete()
    with time_machine.travel(dt.datetime(2025, 7, 1, 6, 30, tzinfo=LONDON), tick=False):
        delivered = tasks.reports_monthly_deliver()
        assert tasks.reports_monthly_deliver() == delivered  # again: nothing new, nothing sent twice
    service_users = 2
    assert delivered == service_users * 5
    deliveries = SelfServiceReportDelivery.objects.filter(organisation=estate["a"], month=traffic["june"])
    assert {d.kind for d in deliveries} == {"RSMI_001", "RSMI_002", "RSMI_003", "RSMI_004", "RSAT_001"}
    rsat = deliveries.get(kind=ReportKind.RSAT_001)
    # Due by the 10th working day of July 2025: Monday 14 July.
    assert rsat.state == DeliveryState.DELIVERED and rsat.due_on == dt.date(2025, 7, 14) and rsat.error == ""
    with rsat.file.open("rb") as handle:
        assert handle.read() == reports.monthly_transactions(reports.for_organisation(estate["a"]),
                                                             month=traffic["june"]).csv()
    assert rsat.emailed_to == ["alice@example.org"] and rsat.rows == 3
    to_alice = [m for m in mail.outbox if m.to == ["alice@example.org"]]
    assert len(to_alice) == 5 and all(m.attachments for m in to_alice)
    to_bob = [m for m in mail.outbox if m.to == ["bob@example.org"]]
    assert len(to_bob) == 5
    bobs_files = " ".join(content if isinstance(content, str) else content.decode("utf-8-sig")
                          for m in to_bob for _, content, _ in m.attachments)
    assert estate["b_meter"].device_id in bobs_files
    # B's meter names the hub it is joined to (A's hub1: B's own record says so), nothing else of A's.
    assert not any(d.device_id in bobs_files for d in estate["meters"] + estate["hubs"][1:] + [estate["ihd"]])


# --- availability ----------------------------------------------------------------------------

def test_availability_excludes_planned_maintenance(components, dcc_admin, second_dcc_admin, dcc_operator):
    dsp = components["dsp"]
    june = dt.date(2025, 6, 1)
    minutes = Decimal(30 * 24 * 60)

    def window(day, hours, status):
        start = dt.datetime(2025, 6, day, 1, 0, tzinfo=LONDON)
        return PlannedMaintenance.objects.create(
            reference=f"PM{day:06d}", title="w", description="w", start_at=start,
            end_at=start + dt.timedelta(hours=hours), status=status, scheduled_at=timezone.now(),
            notice_working_days=20)

    for maintenance in (window(3, 2, MaintenanceStatus.ANNOUNCED), window(10, 1, MaintenanceStatus.APPROVED),
                        window(12, 5, MaintenanceStatus.CANCELLED), window(14, 5, MaintenanceStatus.PROPOSED)):
        maintenance.components.add(dsp)
    # An hour's outage, and one that started inside the 3 June window and ran 30 minutes past it.
    services.outage_record(actor=dcc_operator, component=dsp, started_at=dt.datetime(2025, 6, 20, 9, 0, tzinfo=LONDON),
                           ended_at=dt.datetime(2025, 6, 20, 10, 0, tzinfo=LONDON))
    services.outage_record(actor=dcc_operator, component=dsp, started_at=dt.datetime(2025, 6, 3, 2, 0, tzinfo=LONDON),
                           ended_at=dt.datetime(2025, 6, 3, 3, 30, tzinfo=LONDON))
    # Another component's outage and a May outage do not count.
    services.outage_record(actor=dcc_operator, component=components["dugc"],
                           started_at=dt.datetime(2025, 6, 5, tzinfo=LONDON),
                           ended_at=dt.datetime(2025, 6, 6, tzinfo=LONDON))
    services.outage_record(actor=dcc_operator, component=dsp, started_at=dt.datetime(2025, 5, 5, tzinfo=LONDON),
                           ended_at=dt.datetime(2025, 5, 6, tzinfo=LONDON))
    result = selectors.availability(dsp, june)
    assert result.minutes == minutes
    assert result.maintenance == Decimal(180)  # 2 h announced + 1 h approved; cancelled and proposed not
    assert result.outage == Decimal(90)  # 60 + the 30 minutes after the window
    direct = (minutes - 180 - 90) / (minutes - 180) * 100
    assert result.percent == direct.quantize(Decimal("0.001"))
    assert result.percent == Decimal("99.791")
    untouched = selectors.availability(components["csp-north"], june)
    assert untouched.percent == Decimal("100.000") and untouched.outage == 0
    by_component = {a.component.key: a.percent for a in selectors.availability_month(june)}
    assert by_component == {"dsp": Decimal("99.791"), "csp-north": Decimal("100.000"),
                            "dugc": ((minutes - 1440) / minutes * 100).quantize(Decimal("0.001"))}


def test_availability_months_at_the_clock_change_and_open_outages(components, dcc_operator):
    dsp = components["dsp"]
    assert selectors.availability(dsp, dt.date(2025, 3, 1)).minutes == 743 * 60  # clocks forward
    assert selectors.availability(dsp, dt.date(2025, 10, 1)).minutes == 745 * 60  # clocks back
    # An outage across the month end counts its part in each month; an open one counts up to now.
    services.outage_record(actor=dcc_operator, component=dsp,
                           started_at=dt.datetime(2025, 10, 31, 23, 0, tzinfo=LONDON),
                           ended_at=dt.datetime(2025, 11, 1, 1, 0, tzinfo=LONDON))
    assert selectors.availability(dsp, dt.date(2025, 10, 1)).outage == 60
    services.outage_record(actor=dcc_operator, component=dsp, started_at=dt.datetime(2025, 11, 20, 8, 0, tzinfo=LONDON))
    now = dt.datetime(2025, 11, 20, 10, 30, tzinfo=LONDON)
    assert selectors.availability(dsp, dt.date(2025, 11, 1), now=now).outage == 60 + 150

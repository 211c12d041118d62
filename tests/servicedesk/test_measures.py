"""Incident measures and availability in the slas machinery: a month of incidents of several
categories and resolvers, some breached, counted into MonthRollup and read back by the monthly
report, its JSON and the dashboard's measures tile, each figure against a direct computation from
the incident clocks; availability per component in the report, with planned maintenance left out.
Also the monthly transactions report (RSAT_001) carrying each service metric against its threshold."""
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicedesk import reports as desk_reports
from servicedesk import selectors, services
from servicedesk.clock import LONDON
from slas import incidents, report, rollups, tiles
from slas import services as slas_services
from slas.models import Measure, MonthRollup
from tests.mfa import verified_login

JUNE = dt.date(2025, 6, 1)
WEDNESDAY = dt.datetime(2025, 6, 4, 10, 0, tzinfo=LONDON)
MEASURED_AT = dt.datetime(2025, 7, 1, 9, 0, tzinfo=LONDON)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def june(orgs, supplier_a, supplier_b, dcc_operator, raise_incident):
    """Five incidents in June 2025 (all times London):
    A  SUPA cat 1, DSP: responded after 10 min, resolved after 3 h (both within 30 min / 4 h).
    B  SUPB cat 1, DSP: responded after 45 min, resolved after 5 h (both breached).
    C  SUPA cat 2, CSPN: responded after 20 min; awaited the user 4 h; resolved 7 h after raising
       (3 h of clock time: within 8 h).
    D  SUPA cat 3 (working hours), CSPN: raised Friday 16:00, responded Monday 09:30 (1.5 working
       hours: within 2); never resolved: 3 working days ran out on Wednesday 11 June 16:00.
    E  SUPB cat 2, nobody: never responded (both clocks breached while running).
    F  SUPA cat 1, DSP: raised 30 June 23:50, responded after 5 min (June), resolved 1 July 00:50:
       its resolution counts in July."""
    made = {}

    def step(moment, call, **kwargs):
        with at(moment):
            return call(actor=dcc_operator, **kwargs)

    with at(WEDNESDAY):
        made["A"] = raise_incident(supplier_a, proposed_category=1)
    step(WEDNESDAY + dt.timedelta(minutes=10), services.incident_assign, incident=made["A"], resolver=orgs["DSP"])
    step(WEDNESDAY + dt.timedelta(hours=3), services.incident_resolve, incident=made["A"], resolution="Restarted")

    thursday = WEDNESDAY + dt.timedelta(days=1)
    with at(thursday):
        made["B"] = raise_incident(supplier_b, proposed_category=1)
    step(thursday + dt.timedelta(minutes=45), services.incident_assign, incident=made["B"], resolver=orgs["DSP"])
    step(thursday + dt.timedelta(hours=5), services.incident_resolve, incident=made["B"], resolution="Patched")

    tuesday = dt.datetime(2025, 6, 10, 8, 0, tzinfo=LONDON)
    with at(tuesday):
        made["C"] = raise_incident(supplier_a, proposed_category=2)
    step(tuesday + dt.timedelta(minutes=20), services.incident_assign, incident=made["C"], resolver=orgs["CSPN"])
    step(tuesday + dt.timedelta(hours=1), services.incident_request_information, incident=made["C"],
         text="Which meters?")
    with at(tuesday + dt.timedelta(hours=5)):
        services.incident_answer(actor=supplier_a, incident=made["C"], text="These ones")
    step(tuesday + dt.timedelta(hours=7), services.incident_resolve, incident=made["C"], resolution="Re-routed")

    friday = dt.datetime(2025, 6, 6, 16, 0, tzinfo=LONDON)
    with at(friday):
        made["D"] = raise_incident(supplier_a, proposed_category=3)
    step(dt.datetime(2025, 6, 9, 9, 30, tzinfo=LONDON), services.incident_assign, incident=made["D"],
         resolver=orgs["CSPN"])

    with at(dt.datetime(2025, 6, 12, 9, 0, tzinfo=LONDON)):
        made["E"] = raise_incident(supplier_b, proposed_category=2)

    late = dt.datetime(2025, 6, 30, 23, 50, tzinfo=LONDON)
    with at(late):
        made["F"] = raise_incident(supplier_a, proposed_category=1)
    step(late + dt.timedelta(minutes=5), services.incident_assign, incident=made["F"], resolver=orgs["DSP"])
    step(late + dt.timedelta(hours=1), services.incident_resolve, incident=made["F"], resolution="Done")
    return made


def direct(month, now, organisation=None):
    """Counts per (measure code, resolver) straight from the incident clocks: a stopped clock
    within target counts within in the month it stopped; a breached one counts as measured (not
    within) in the month it passed its due time; a running clock within target does not count."""
    counts = Counter()
    for incident, clocks in selectors.with_clocks(list(selectors.Incident.objects.all()), now=now):
        if organisation is not None and incident.organisation_id != organisation.pk:
            continue
        for word, state in (("RSP", clocks.response), ("RES", clocks.resolution)):
            if state.breached:
                due = selectors.clock.due_at(incident.raised_at, state.target,
                                             [(p.started_at, p.ended_at or now) for p in incident.pauses.all()])
                decided, within = due, 0
            elif state.stopped_at is not None:
                decided, within = state.stopped_at, 1
            else:
                continue
            if decided.astimezone(LONDON).date().replace(day=1) != month:
                continue
            key = (f"INC-{word}-{incident.category}", incident.resolver.code if incident.resolver else "unassigned")
            counts[key + ("measured",)] += 1
            counts[key + ("within",)] += within
    return counts


def from_report(rows):
    counts = Counter()
    for row in rows:
        if row["measured"]:
            counts[(row["code"], row["resolver"], "measured")] += row["measured"]
            counts[(row["code"], row["resolver"], "within")] += row["within"]
    return +counts


def test_incident_measures_per_category_and_resolver_against_the_clocks(orgs, june):
    with at(MEASURED_AT):
        counted = incidents.refresh_month(JUNE)
        built = report.build(JUNE)
        expected = direct(JUNE, MEASURED_AT)
    assert counted == 11  # A, B, C, D and E both clocks; F's response
    assert from_report(built["incidents"]) == +expected
    # The figures by hand, so the direct computation is itself checked.
    assert expected == Counter({
        ("INC-RSP-1", "DSP", "measured"): 3, ("INC-RSP-1", "DSP", "within"): 2,
        ("INC-RES-1", "DSP", "measured"): 2, ("INC-RES-1", "DSP", "within"): 1,
        ("INC-RSP-2", "CSPN", "measured"): 1, ("INC-RSP-2", "CSPN", "within"): 1,
        ("INC-RES-2", "CSPN", "measured"): 1, ("INC-RES-2", "CSPN", "within"): 1,
        ("INC-RSP-3", "CSPN", "measured"): 1, ("INC-RSP-3", "CSPN", "within"): 1,
        ("INC-RES-3", "CSPN", "measured"): 1, ("INC-RES-3", "CSPN", "within"): 0,
        ("INC-RSP-2", "unassigned", "measured"): 1, ("INC-RES-2", "unassigned", "measured"): 1,
        ("INC-RES-2", "unassigned", "within"): 0, ("INC-RSP-2", "unassigned", "within"): 0,
    })
    rows = {(r["code"], r["resolver"]): r for r in built["incidents"]}
    assert rows[("INC-RSP-1", "DSP")]["achieved_pct"] == Decimal("66.67")
    assert rows[("INC-RSP-1", "DSP")]["met"] is False and rows[("INC-RSP-2", "CSPN")]["met"] is True
    assert rows[("INC-RSP-4", "")]["met"] is None  # no category 4 incidents: not measured
    # The targets the measures hold are the desk's table (category 1: 30 min and 4 h).
    assert Measure.objects.get(code="INC-RSP-1").target_seconds == 30 * 60
    assert Measure.objects.get(code="INC-RES-1").target_seconds == 4 * 3600
    # Incidents earn no credits: the credit calculations hold the request and alert measures only.
    assert not any(r["code"].startswith("INC-") for c in built["credits"] for r in c.get("results", []))
    assert all(not r["code"].startswith("INC-") for r in built["measures"])
    # The JSON of slas_report carries them too.
    as_json = report.as_json(built)
    assert {(r["code"], r["resolver"]) for r in as_json["incidents"] if r["measured"]} == {
        key[:2] for key in expected}


def test_a_service_user_sees_its_own_incidents_in_its_report(orgs, june):
    with at(MEASURED_AT):
        incidents.refresh_month(JUNE)
        own = report.build(JUNE, orgs["SUPB"])
        expected = direct(JUNE, MEASURED_AT, orgs["SUPB"])
    assert from_report(own["incidents"]) == +expected
    assert {key[0] for key in +expected} == {"INC-RSP-1", "INC-RES-1", "INC-RSP-2", "INC-RES-2"}


def test_the_late_incident_counts_in_july_and_june_is_stable(orgs, june):
    with at(MEASURED_AT):
        incidents.refresh_month(JUNE)
        incidents.refresh_month(dt.date(2025, 7, 1))
        july = report.build(dt.date(2025, 7, 1))
    july_rows = from_report(july["incidents"])
    # F was responded on 30 June (5 min, within) and resolved on 1 July (within).
    assert july_rows == Counter({("INC-RES-1", "DSP", "measured"): 1, ("INC-RES-1", "DSP", "within"): 1})
    # A refresh with nothing changed writes nothing (no new rows, so the summary is not redone).
    before = list(MonthRollup.objects.filter(month=JUNE).values_list("pk", flat=True))
    with at(MEASURED_AT + dt.timedelta(minutes=5)):
        incidents.refresh_month(JUNE)
    assert list(MonthRollup.objects.filter(month=JUNE).values_list("pk", flat=True)) == before
    # Rebuilding the month's fact rollups leaves the incident rows alone.
    rollups.rebuild_month(JUNE)
    assert from_report(report.build(JUNE)["incidents"]) == +direct(JUNE, MEASURED_AT)


def test_an_incident_measures_time_is_the_desks_table(orgs, dcc_admin):
    incidents.refresh_month(JUNE)
    measure = Measure.objects.get(code="INC-RES-2")
    assert measure.target_seconds == 8 * 3600
    with pytest.raises(ValidationError) as refused:
        slas_services.measure_update(measure=measure, actor=dcc_admin, target_seconds=Decimal(60),
                                     rebuild_months=[JUNE])
    assert "target_seconds" in refused.value.message_dict
    # The share of incidents within target is the measure's own, as for every measure.
    slas_services.measure_update(measure=measure, actor=dcc_admin, target_seconds=measure.target_seconds,
                                 target_pct=Decimal("90.00"), minimum_pct=Decimal("80.00"), rebuild_months=[JUNE])
    services.target_time_set(actor=dcc_admin, category=2, response_minutes=30, resolution_minutes=600,
                             basis="24x7")
    incidents.refresh_month(JUNE)
    measure.refresh_from_db()
    assert measure.target_seconds == 600 * 60 and measure.target_pct == Decimal("90.00")


def test_a_running_clock_breaches_without_a_write(orgs, supplier_a, raise_incident):
    with at(WEDNESDAY):
        raise_incident(supplier_a, proposed_category=1)
        incidents.refresh_month(JUNE)
    assert not from_report(report.build(JUNE)["incidents"])  # running within target: not yet measured
    with at(WEDNESDAY + dt.timedelta(hours=1)):
        incidents.refresh_month(JUNE)
        rows = from_report(report.build(JUNE)["incidents"])
    assert rows == Counter({("INC-RSP-1", "unassigned", "measured"): 1})


def test_the_dashboard_tile_shows_the_incident_measures(orgs, june, dcc_operator, supplier_a):
    now = dt.datetime(2025, 6, 20, 12, 0, tzinfo=LONDON)
    with at(now):
        incidents.refresh_month(JUNE)
        rows = {r["measure"].code: r for r in tiles.measures_context(dcc_operator, now)["rows"]}
        own = {r["measure"].code: r for r in tiles.measures_context(supplier_a, now)["rows"]}
    assert rows["INC-RSP-1"]["measured"] == 2 and rows["INC-RSP-1"]["achieved"] == Decimal("50.00")
    assert rows["INC-RSP-1"]["state"] == "bad"
    assert own["INC-RSP-1"]["measured"] == 1 and own["INC-RSP-1"]["achieved"] == Decimal("100.00")


def test_the_freeze_counts_the_incidents_first(orgs, june):
    with at(MEASURED_AT):
        run, _ = slas_services.month_freeze(month=JUNE, notify=False)
    frozen = {(r["code"], r["region"]): r for r in run.data["incidents"] if r["measured"]}
    assert frozen[("INC-RSP-1", "DSP")]["within"] == 2 and frozen[("INC-RSP-1", "DSP")]["measured"] == 3


# --- availability ------------------------------------------------------------------------------

def test_availability_in_the_report_leaves_out_planned_maintenance(orgs, dcc_admin, second_dcc_admin, dcc_operator,
                                                                   components):
    dsp = components["dsp"]
    with at(dt.datetime(2025, 5, 1, 9, 0, tzinfo=LONDON)):
        window = services.maintenance_schedule(
            actor=dcc_admin, title="DSP patch", description="Security patches", components=[dsp],
            start_at=dt.datetime(2025, 6, 8, 1, 0, tzinfo=LONDON), end_at=dt.datetime(2025, 6, 8, 3, 0, tzinfo=LONDON))
        services.maintenance_approve(actor=second_dcc_admin, maintenance=window)
        # Cancelled maintenance is no excuse: its window does not count.
        dropped = services.maintenance_schedule(
            actor=dcc_admin, title="Gateway", description="x", components=[components["dugc"]],
            start_at=dt.datetime(2025, 6, 9, 1, 0, tzinfo=LONDON), end_at=dt.datetime(2025, 6, 9, 2, 0, tzinfo=LONDON))
        services.maintenance_cancel(actor=dcc_admin, maintenance=dropped, reason="Not needed")
    # Three hours down, the first hour inside the maintenance window: two hours count against DCC.
    services.outage_record(actor=dcc_operator, component=dsp, started_at=dt.datetime(2025, 6, 8, 2, 0, tzinfo=LONDON),
                           ended_at=dt.datetime(2025, 6, 8, 5, 0, tzinfo=LONDON))
    services.outage_record(actor=dcc_operator, component=components["dugc"],
                           started_at=dt.datetime(2025, 6, 9, 1, 0, tzinfo=LONDON),
                           ended_at=dt.datetime(2025, 6, 9, 2, 0, tzinfo=LONDON))
    with at(MEASURED_AT):
        built = report.build(JUNE)
    rows = {a["key"]: a for a in built["availability"]}
    june_minutes = Decimal(30 * 24 * 60)
    assert rows["dsp"]["minutes"] == june_minutes
    assert rows["dsp"]["maintenance"] == Decimal("120.0") and rows["dsp"]["outage"] == Decimal("120.0")
    assert rows["dsp"]["percent"] == ((june_minutes - 240) / (june_minutes - 120) * 100).quantize(Decimal("0.001"))
    assert rows["dugc"]["maintenance"] == 0 and rows["dugc"]["outage"] == Decimal("60.0")
    assert rows["dugc"]["percent"] == ((june_minutes - 60) / june_minutes * 100).quantize(Decimal("0.001"))
    assert rows["csp-north"]["percent"] == Decimal("100.000")
    assert {a["component"]: a["percent"] for a in report.as_json(built)["availability"]}["dsp"] == str(
        rows["dsp"]["percent"])


def test_the_report_page_shows_incidents_and_availability(client, orgs, june, dcc_operator, components):
    with at(MEASURED_AT):
        incidents.refresh_month(JUNE)
        verified_login(client, dcc_operator)
        page = client.get(reverse("slas:report") + "?month=2025-06").content.decode()
    assert "INC-RSP-1" in page and "Availability" in page and "DCC User Gateway" in page


# --- RSAT_001: each monthly service metric against its threshold -------------------------------

def test_monthly_transactions_carry_each_service_metric_against_its_threshold(orgs, june, supplier_a):
    with at(MEASURED_AT):
        incidents.refresh_month(JUNE)
        built = desk_reports.monthly_transactions(desk_reports.report_scope(supplier_a), month=JUNE)
    (section,) = built.sections
    assert section.title == "Service metrics against their thresholds"
    by_code = {row[0] + " " + row[2]: row for row in section.rows}
    assert set(Measure.objects.of_facts().values_list("code", flat=True)) <= {row[0] for row in section.rows}
    # National figures: DCC's performance against each metric, thresholds as in the report.
    national = {(r["code"], r["resolver"]): r for r in report.build(JUNE)["incidents"]}
    row = by_code["INC-RSP-1 DSP"]
    assert row[3:] == (national[("INC-RSP-1", "DSP")]["measured"], national[("INC-RSP-1", "DSP")]["within"],
                       "66.67", "95.00", "90.00", "below minimum")
    text = built.csv().decode("utf-8-sig")
    assert "Service metrics against their thresholds" in text and "INC-RSP-1" in text


def test_the_monthly_transactions_page_shows_the_metrics_section(orgs, june, supplier_a, client):
    with at(MEASURED_AT):
        incidents.refresh_month(JUNE)
        verified_login(client, supplier_a)
        page = client.get(reverse("servicedesk:report_monthly-transactions") + "?month=2025-06").content.decode()
    assert "<h2>Service metrics against their thresholds</h2>" in page and "INC-RSP-1" in page

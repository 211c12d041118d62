"""Demo data of the service desk: the service components (from the configuration item catalogue)
with 90 days of status history, a realistic Incident Management Log over last month and this one
(every category, several resolvers, some breached, awaiting the user, resolved, closed, one
re-opened, a repeat grouped under a problem, interested parties, one logged by the Service Desk
for a caller), a major incident with its service alert, outage and a two-version major incident
report, planned maintenance (announced, one at short notice with its reason, one approved but not
yet announced), service alerts active and closed, and the users' monthly forecasts.

Everything goes through servicedesk.services, so the timelines, clocks, audit trail, events and
notifications are the real ones. History is replayed at the instants it happened (the clock is
moved with time-machine, one step at a time, never past now), so a clock started three weeks ago
shows three weeks of clock time. Idempotent: each incident, alert, maintenance window and problem
is found by its title, each component's history is written once, forecasts only where missing.
"""
import datetime as dt
import random
from contextlib import contextmanager

import time_machine
from django.db.models import Count
from django.utils import timezone

from adapter.models import ServiceRequest, ServiceRequestVariant
from inventory import services as inventory_services
from inventory.choices import ItemKind
from inventory.models import ConfigurationItem
from portal import calendar_uk
from portal.choices import PortalRole
from portal.models import Organisation, User
from servicedesk import services
from servicedesk.choices import ComponentStatus, IncidentStatus, ProblemStatus
from servicedesk.clock import LONDON
from servicedesk.models import (
    ComponentStatusChange,
    Incident,
    PlannedMaintenance,
    Problem,
    ServiceAlert,
    ServiceComponent,
    UsageForecast,
)

# key of the configuration item, the component's name, what it is
COMPONENTS = [
    ("dsp", "DSP data service", "Receives, checks and routes every service request and response."),
    ("dcc-user-gateway", "DCC User Gateway", "The users' DUIS interface to DCC."),
    ("csp-north", "CSP North", "Communications service in the north region."),
    ("csp-central", "CSP Central", "Communications service in the central region."),
    ("csp-south", "CSP South", "Communications service in the south region."),
    ("wan-gateway", "WAN Gateway", "Where the CSPs' networks meet the DSP."),
    ("smwan", "Smart Metering WAN", "The wide area network to the communications hubs."),
    ("portal", "DCC portal", "This portal: the Self-Service Interface, its reports and its API."),
]
# Items the catalogue may lack (the portal is not one of the seed's): created where missing.
MISSING_ITEMS = {"portal": ("DCC portal (Self-Service Interface)", ItemKind.SERVICE)}
HISTORY_DAYS = 90


@contextmanager
def _at(moment):
    """Run the services as at ``moment`` (a past instant): what they stamp is that instant."""
    if moment > timezone.now():
        raise ValueError(f"the demo does not write the future: {moment:%Y-%m-%d %H:%M}")
    with time_machine.travel(moment, tick=False):
        yield


def _london(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


def _working(day):
    """``day`` or the next working day after it (England and Wales)."""
    while not calendar_uk.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


class Demo:
    """The demo's people, organisations and anchors (last month's first day, now)."""

    def __init__(self):
        self.now = timezone.now()
        today = self.now.astimezone(LONDON).date()
        self.this_month = today.replace(day=1)
        self.last_month = (self.this_month - dt.timedelta(days=1)).replace(day=1)
        self.orgs = {o.code: o for o in Organisation.objects.all()}
        self.ops = self._person(PortalRole.DCC_OPERATIONS)
        self.admin = self._person(PortalRole.DCC_ADMIN)
        self.users = {code: User.objects.filter(organisation=org, role=PortalRole.SERVICE_USER, is_active=True)
                      .order_by("username").first() for code, org in self.orgs.items()}
        self.components = {}

    @staticmethod
    def _person(role):
        return User.objects.filter(role=role, is_active=True).order_by("username").first()

    def day(self, offset):
        """A working day ``offset`` days into last month (London date)."""
        return _working(self.last_month + dt.timedelta(days=offset))

    def ago(self, **delta):
        return self.now - dt.timedelta(**delta)


# --- components and their history --------------------------------------------------------------

def _components(demo):
    for order, (key, name, description) in enumerate(COMPONENTS):
        item = ConfigurationItem.objects.filter(key=key).first()
        if item is None:
            if key not in MISSING_ITEMS:
                continue  # the inventory demo did not run: no catalogue to draw from
            item_name, kind = MISSING_ITEMS[key]
            item = inventory_services.item_upsert(key=key, name=item_name, kind=kind, owner=demo.orgs.get("DCC"))
        existing = ServiceComponent.objects.filter(key=key).first()
        demo.components[key] = existing or services.component_upsert(
            actor=demo.admin, key=key, name=name, item=item, sort_order=order, description=description)


def _status(demo, key, moment, status, reason):
    component = demo.components.get(key)
    if component is None or component.status == status:
        return
    with _at(moment):
        demo.components[key] = services.component_set_status(actor=demo.ops, component=component, status=status,
                                                              reason=reason)


def _background_history(demo):
    """Ninety days of short degradations per component (the strip on the status page), written
    once: a component with any recorded change keeps its history."""
    rng = random.Random(14)
    start = demo.ago(days=HISTORY_DAYS)
    for key, component in list(demo.components.items()):
        if ComponentStatusChange.objects.filter(component=component).exists():
            continue
        moment = start + dt.timedelta(hours=rng.uniform(24, 24 * 12))
        # Last month and this one are told by the incidents, alerts and maintenance below.
        while moment < _london(demo.last_month, 0) - dt.timedelta(hours=6):
            _status(demo, key, moment, ComponentStatus.DEGRADED, "Slower responses than usual")
            _status(demo, key, moment + dt.timedelta(minutes=rng.choice((40, 90, 150))), ComponentStatus.OPERATIONAL,
                    "Back to normal")
            moment += dt.timedelta(days=rng.uniform(9, 24))


# --- incidents ------------------------------------------------------------------------------------

def _raise(demo, moment, summary, *, code, category, description, on_behalf=None, **extra):
    """The incident with this summary, raised at ``moment`` if it is not in the log yet (None
    when it was: its story has been told)."""
    if Incident.objects.filter(summary=summary).exists():
        return None
    organisation = demo.orgs.get(code)
    if organisation is None:
        return None
    person = demo.users.get(code)
    with _at(moment):
        if person is not None and on_behalf is None:
            return services.incident_raise(actor=person, summary=summary, description=description,
                                           proposed_category=category, **extra)
        return services.incident_raise(actor=demo.ops, organisation=organisation, summary=summary,
                                       description=description, proposed_category=category,
                                       caller=on_behalf or f"Service desk call from {organisation.name}", **extra)


def _step(moment, call, **kwargs):
    with _at(moment):
        return call(**kwargs)


def _assign(demo, incident, moment, resolver):
    return _step(moment, services.incident_assign, actor=demo.ops, incident=incident, resolver=demo.orgs[resolver],
                 assignee=demo.ops if resolver == "DCC" else None)


def _resolve(demo, incident, moment, text):
    return _step(moment, services.incident_resolve, actor=demo.ops, incident=incident, resolution=text)


def _close(demo, incident, moment):
    raiser = incident.raised_by or demo.ops
    return _step(moment, services.incident_close, actor=raiser, incident=incident, note="Confirmed fixed, thank you")


def _lived(demo, moment, summary, *, assigned, resolved, closed=None, **raised):
    """An incident whose whole story is raised, assigned, resolved (and closed): ``assigned`` is
    (how long after ``moment``, the resolver's code), ``resolved`` (how long after, or when; the
    resolution), ``closed`` how long after ``moment`` the raiser closes it (None: left resolved)."""
    inc = _raise(demo, moment, summary, **raised)
    if inc is None:
        return None
    after, resolver = assigned
    _assign(demo, inc, moment + after, resolver)
    when, text = resolved
    inc = _resolve(demo, inc, when if isinstance(when, dt.datetime) else moment + when, text)
    if closed is not None:
        _close(demo, inc, moment + closed)
    return inc


def _incidents(demo):
    d = demo.day
    parties = [demo.orgs[c] for c in ("SUPB",) if c in demo.orgs]

    # Category 2, DSP: within both targets, closed by the raiser.
    t = _london(d(2), 9, 40)
    if inc := _raise(demo, t, "On-demand reads queue for minutes at the DSP", code="SUPA", category=2,
                     description="Since 09:15 our on-demand reads (SRV 4.1.1) take minutes to answer.",
                     regions=["north", "central"]):
        _assign(demo, inc, t + dt.timedelta(minutes=25), "DSP")
        _step(t + dt.timedelta(hours=1), services.incident_add_update, actor=demo.ops, incident=inc,
              text="A stuck partition of the outbound queue was found; failing over.")
        inc = _resolve(demo, inc, t + dt.timedelta(hours=4, minutes=30), "Queue failed over; backlog cleared by 14:10.")
        _close(demo, inc, t + dt.timedelta(days=1))

    # Category 3, DSP: response breached (4 working hours for a 2-hour target), resolved in time.
    t = _london(d(4), 10, 0)
    _lived(demo, t, "Firmware deliveries stuck for one meter model", code="SUPB", category=3,
           description="SRV 11.1 firmware deliveries to one ESME model stay pending for days.",
           assigned=(dt.timedelta(hours=4), "DSP"),
           resolved=(_london(_working(t.date() + dt.timedelta(days=2)), 11, 0),
                     "A wrong image hash was corrected; deliveries resumed."))

    # Category 2, CSP North: DCC asks for information, the clock waits a day, then resolved.
    t = _london(d(6), 8, 30)
    if inc := _raise(demo, t, "North meters answer E21 to every read", code="SUPA", category=2,
                     description="About 300 meters in the north answer every read with E21.", regions=["north"],
                     interested_parties=parties):
        _assign(demo, inc, t + dt.timedelta(minutes=20), "CSPN")
        _step(t + dt.timedelta(hours=1), services.incident_request_information, actor=demo.ops, incident=inc,
              text="Please send the device ids of ten affected meters.")
        _step(t + dt.timedelta(days=1), services.incident_answer, actor=demo.users["SUPA"], incident=inc,
              text="Ten device ids attached below.")
        inc = _resolve(demo, inc, t + dt.timedelta(days=1, hours=3), "A cell site was restarted by CSP North.")
        _close(demo, inc, t + dt.timedelta(days=2))

    # The problem behind two overnight drops: the first, then its repeat a fortnight later.
    t = _london(d(3), 7, 50)
    first = _raise(demo, t, "Hubs drop off the network overnight", code="SUPB", category=3,
                   description="Communications hubs in the north lose the WAN between 02:00 and 04:00.",
                   regions=["north"])
    if first:
        _assign(demo, first, _london(t.date(), 9, 30), "CSPN")
        first = _resolve(demo, first, _london(_working(t.date() + dt.timedelta(days=1)), 12, 0),
                         "Cells restarted; hubs reconnected.")
        _close(demo, first, _london(_working(t.date() + dt.timedelta(days=2)), 10, 0))
    t = _london(d(17), 8, 5)
    repeat = _raise(demo, t, "Hubs drop off the network overnight, again", code="SUPB", category=3,
                    description="The same overnight loss of the WAN as two weeks ago.", regions=["north"])
    if repeat:
        earlier = first or Incident.objects.filter(summary="Hubs drop off the network overnight").first()
        _assign(demo, repeat, t + dt.timedelta(hours=1, minutes=10), "CSPN")
        if earlier is not None:
            _step(t + dt.timedelta(hours=1, minutes=20), services.incident_link_repeat, actor=demo.ops,
                  incident=repeat, earlier=earlier)
        if not Problem.objects.filter(title="Overnight WAN loss in the north").exists():
            with _at(t + dt.timedelta(hours=2)):
                problem = services.problem_create(
                    actor=demo.ops, title="Overnight WAN loss in the north",
                    description="Hubs lose the WAN during the CSP's nightly configuration push.",
                    incidents=[i for i in (earlier, repeat) if i is not None])
            _step(t + dt.timedelta(days=2), services.problem_update, actor=demo.ops, problem=problem,
                  root_cause="The nightly push restarts cells in groups too large for the hubs to rejoin.",
                  fix="Workaround: push in smaller groups. Permanent fix in the next CSP release.",
                  status=ProblemStatus.KNOWN_ERROR)
        _resolve(demo, repeat, _london(_working(t.date() + dt.timedelta(days=1)), 15, 0),
                 "Workaround in place (smaller push groups); see the problem record.")

    # Category 2, DSP: resolved, re-opened by the raiser the next day, resolved again, closed.
    t = _london(d(11), 11, 0)
    if inc := _raise(demo, t, "Prepayment top-ups not applied to meters", code="SUPA", category=2,
                     description="SRV 2.3 top-ups return I0 but meters show the old credit."):
        _assign(demo, inc, t + dt.timedelta(minutes=15), "DSP")
        inc = _resolve(demo, inc, t + dt.timedelta(hours=3), "Cache of tariff blocks refreshed.")
        inc = _step(t + dt.timedelta(days=1), services.incident_reopen, actor=demo.users["SUPA"], incident=inc,
                    reason="Top-ups to gas meters are still not applied.")
        inc = _resolve(demo, inc, t + dt.timedelta(days=1, hours=2), "Gas meters' tariff cache refreshed too.")
        _close(demo, inc, t + dt.timedelta(days=2))

    # Category 1, DSP: response breached (50 minutes for 30), resolution within 4 hours.
    _lived(demo, _london(d(19), 7, 10), "Future-dated requests answered with errors", code="SUPB", category=1,
           description="Every future-dated request since 07:00 answers E-codes.",
           assigned=(dt.timedelta(minutes=50), "DSP"),
           resolved=(dt.timedelta(hours=3), "A scheduler node was restored."), closed=dt.timedelta(days=1))

    # Category 5, logged by the Service Desk for a caller without a login, resolved by DCC.
    t = _london(d(8), 14, 0)
    _lived(demo, t, "Question about the columns of report RSMI_002", code="SUPC", category=5,
           description="The caller asks what the firmware version column shows for type 2 devices.",
           on_behalf="Jo Patel, Caledon operations desk, 0141 496 0000", assigned=(dt.timedelta(hours=2), "DCC"),
           resolved=(_london(_working(t.date() + dt.timedelta(days=1)), 10, 0),
                     "Explained: type 2 devices have no firmware version, the column is empty for them."))

    _major(demo)

    # This month: awaiting the user, resolved (not yet closed), in progress, new.
    t = demo.ago(days=2, hours=3)
    if inc := _raise(demo, t, "Install and commission failures at sites in Central", code="SUPB", category=4,
                     description="Installers report commissioning failures (SRV 8.1.1) at new sites.",
                     regions=["central"]):
        _assign(demo, inc, t + dt.timedelta(hours=1), "CSPC")
        _step(t + dt.timedelta(hours=2), services.incident_request_information, actor=demo.ops, incident=inc,
              text="Which sites, and at what time did commissioning fail?")
    _lived(demo, demo.ago(days=3, hours=1), "PPMID pairing fails after hub replacement", code="SUPA", category=3,
           description="After a hub swap the PPMID will not join the HAN.", regions=["south"],
           assigned=(dt.timedelta(minutes=40), "CSPS"),
           resolved=(demo.ago(hours=20), "The hub's join timer was reset remotely."))
    t = demo.ago(hours=5)
    if inc := _raise(demo, t, "Some meter alerts arrive late", code="DNOM", category=4,
                     description="Power outage alerts reach us up to an hour late.",
                     on_behalf="Network control room, Midlands Distribution"):
        _assign(demo, inc, t + dt.timedelta(minutes=30), "DSP")
    _raise(demo, demo.ago(minutes=30), "Slow answers from the DCC User Gateway", code="SUPA", category=2,
           description="Some requests take over 20 s to be acknowledged.")


def _major(demo):
    """The major incident: raised as category 2, set to 1 by DCC, flagged major (its service alert
    goes out), an outage of the User Gateway linked to it, resolved late, its alert closed and
    its report written in two versions."""
    summary = "DCC User Gateway rejects all requests"
    t = _london(demo.day(14), 8, 10)
    inc = _raise(demo, t, summary, code="SUPA", category=2, description="Every DUIS request since 08:00 is "
                 "refused at the User Gateway with a TLS error.",
                 interested_parties=[demo.orgs[c] for c in ("SUPB", "SUPC") if c in demo.orgs])
    if inc is None:
        return
    gateway = demo.components.get("dcc-user-gateway")
    _step(t + dt.timedelta(minutes=5), services.incident_set_category, actor=demo.ops, incident=inc, category=1,
          reason="Every user is affected: category 1.")
    _assign(demo, inc, t + dt.timedelta(minutes=8), "DCC")
    with _at(t + dt.timedelta(minutes=15)):
        alert = services.incident_flag_major(
            actor=demo.ops, incident=Incident.objects.get(pk=inc.pk),
            alert_title="Major incident: the DCC User Gateway refuses requests",
            alert_description="Requests to the DCC User Gateway fail with a TLS error. We are working on it.",
            components=[gateway] if gateway else [], expected_resolution_at=t + dt.timedelta(hours=3))
    _status(demo, "dcc-user-gateway", t + dt.timedelta(minutes=15), ComponentStatus.MAJOR_OUTAGE,
            f"Major incident {inc.reference}")
    _step(t + dt.timedelta(hours=1, minutes=30), services.service_alert_update, actor=demo.ops, alert=alert,
          text="An expired intermediate certificate was found; a new one is being deployed.",
          expected_resolution_at=t + dt.timedelta(hours=5))
    if gateway is not None:
        _step(t + dt.timedelta(hours=5, minutes=40), services.outage_record, actor=demo.ops, component=gateway,
              started_at=t - dt.timedelta(minutes=10), ended_at=t + dt.timedelta(hours=5, minutes=30),
              incident=inc, description="User Gateway refused every request (expired certificate)")
    _resolve(demo, Incident.objects.get(pk=inc.pk), t + dt.timedelta(hours=5, minutes=30),
             "The certificate chain was renewed; requests flow again.")
    _status(demo, "dcc-user-gateway", t + dt.timedelta(hours=5, minutes=30), ComponentStatus.OPERATIONAL,
            "Recovered")
    _step(t + dt.timedelta(hours=6), services.service_alert_close, actor=demo.ops, alert=alert,
          text="Resolved at 13:40; the major incident report follows.")
    incident = Incident.objects.get(pk=inc.pk)
    report = {"summary": "The DCC User Gateway refused every request for five and a half hours.",
              "timeline": "08:00 first failures; 08:10 raised; 08:25 flagged major; 09:40 cause found; "
                          "13:40 certificate chain renewed, service restored.",
              "impact": "All users: no service request reached DCC; about 410,000 requests were refused.",
              "root_cause": "An intermediate certificate of the gateway's TLS chain expired unnoticed.",
              "actions": "Monitor expiry of every certificate in the chain; renew 30 days ahead."}
    _step(t + dt.timedelta(days=2), services.major_report_write, actor=demo.ops, incident=incident, **report)
    report["impact"] = "All users: about 412,600 requests were refused (counted from the gateway's logs)."
    _step(t + dt.timedelta(days=3), services.major_report_write, actor=demo.ops, incident=incident,
          reason="Impact recounted from the gateway's logs", **report)


# --- alerts, maintenance, outages ------------------------------------------------------------------

def _alerts(demo):
    north = demo.components.get("smwan")
    if not ServiceAlert.objects.filter(title="WAN connectivity degraded in the north").exists():
        t = _london(demo.day(6), 8, 45)
        with _at(t):
            alert = services.service_alert_publish(
                actor=demo.ops, title="WAN connectivity degraded in the north",
                description="Some meters in the north do not answer; CSP North is investigating.",
                components=[c for c in (north, demo.components.get("csp-north")) if c], regions=["north"],
                expected_resolution_at=t + dt.timedelta(hours=6))
        _status(demo, "csp-north", t, ComponentStatus.PARTIAL_OUTAGE, "Cell site down in the north")
        if demo.components.get("csp-north"):
            incident = Incident.objects.filter(summary="North meters answer E21 to every read").first()
            _step(t + dt.timedelta(hours=5), services.outage_record, actor=demo.ops,
                  component=demo.components["csp-north"], started_at=t - dt.timedelta(minutes=20),
                  ended_at=t + dt.timedelta(hours=4, minutes=40), incident=incident,
                  description="One cell site down: meters behind it unreachable")
        _status(demo, "csp-north", t + dt.timedelta(hours=4, minutes=40), ComponentStatus.OPERATIONAL, "Restored")
        _step(t + dt.timedelta(hours=5), services.service_alert_close, actor=demo.ops, alert=alert,
              text="The cell site is back; meters answer again.")
    if not ServiceAlert.objects.filter(title="Slower responses from CSP South").exists():
        t = demo.ago(hours=3)
        with _at(t):
            alert = services.service_alert_publish(
                actor=demo.ops, title="Slower responses from CSP South",
                description="Responses from meters in the south take longer than usual.",
                components=[c for c in (demo.components.get("csp-south"),) if c], regions=["south"],
                expected_resolution_at=demo.now + dt.timedelta(hours=4))
        _status(demo, "csp-south", t, ComponentStatus.DEGRADED, "Slower responses (service alert)")
        _step(demo.ago(hours=1), services.service_alert_update, actor=demo.ops, alert=alert,
              text="CSP South is rerouting traffic around a congested link.")


def _window(demo, title, component, *, scheduled, approved, announced=None, **more):
    """Planned maintenance of ``component`` with this title: scheduled by the desk at ``scheduled``,
    approved (and announced) by the administrator at those moments. None when its story has been
    told (or the component is missing)."""
    if component is None or PlannedMaintenance.objects.filter(title=title).exists():
        return None
    with _at(scheduled):
        window = services.maintenance_schedule(actor=demo.ops, title=title, components=[component], **more)
    _step(approved, services.maintenance_approve, actor=demo.admin, maintenance=window)
    if announced is not None:
        window = _step(announced, services.maintenance_announce, actor=demo.admin, maintenance=window)
    return window


def _maintenance(demo):
    dsp, wan, central = (demo.components.get(k) for k in ("dsp", "wan-gateway", "csp-central"))
    sunday = demo.last_month + dt.timedelta(days=(6 - demo.last_month.weekday()) % 7 + 7)
    start, end = _london(sunday, 1, 0), _london(sunday, 4, 0)
    scheduled = start - dt.timedelta(days=21)
    if window := _window(demo, "DSP quarterly patching", dsp, scheduled=scheduled,
                         approved=scheduled + dt.timedelta(hours=2), announced=scheduled + dt.timedelta(hours=3),
                         description="Operating system and database patches on every DSP node.", start_at=start,
                         end_at=end):
        _status(demo, "dsp", start, ComponentStatus.UNDER_MAINTENANCE, f"Planned maintenance {window.reference}")
        _status(demo, "dsp", end - dt.timedelta(minutes=20), ComponentStatus.OPERATIONAL, "Maintenance complete")
        if window.alert_id:
            _step(end, services.service_alert_close, actor=demo.ops, alert=window.alert,
                  text="Maintenance completed early.")
        # An outage minute inside the window counts as maintenance, not against availability.
        _step(end, services.outage_record, actor=demo.ops, component=dsp, started_at=end - dt.timedelta(minutes=30),
              ended_at=end + dt.timedelta(minutes=15), description="Slow restart of one node after patching")
    start = _london((demo.now + dt.timedelta(days=2)).astimezone(LONDON).date(), 2, 0)
    _window(demo, "Emergency certificate renewal on the WAN Gateway", wan, scheduled=demo.ago(hours=6),
            approved=demo.ago(hours=5), announced=demo.ago(hours=4),
            description="Renew the gateway's TLS certificates before they expire.",
            start_at=start, end_at=start + dt.timedelta(hours=1),
            short_notice_reason="A certificate expires in five days; waiting ten working days would let it "
                                "lapse (see the major incident last month).")
    start = _london((demo.now + dt.timedelta(days=30)).astimezone(LONDON).date(), 0, 30)
    _window(demo, "CSP Central core network upgrade", central, scheduled=demo.ago(days=1), approved=demo.ago(hours=20),
            description="Core routers replaced; meters in Central unreachable.",
            start_at=start, end_at=start + dt.timedelta(hours=4), regions=["central"])


# --- forecasts ---------------------------------------------------------------------------------

def _forecasts(demo):
    """Each service user with traffic forecasts its busiest SRVs, for last month (near what it
    sent) and this month; without traffic, a small fixed forecast."""
    rng = random.Random(3)
    variants = {v.pk: v for v in ServiceRequestVariant.objects.all()}
    start = _london(demo.last_month, 0)
    end = _london(demo.this_month, 0)
    written = 0
    for code in ("SUPA", "SUPB"):
        organisation, person = demo.orgs.get(code), demo.users.get(code)
        if organisation is None or person is None or not variants:
            continue
        counts = dict(ServiceRequest.objects.filter(organisation=organisation, received_at__gte=start,
                                                    received_at__lt=end).order_by()
                      .values_list("srv_id").annotate(n=Count("*")))
        busiest = sorted(counts, key=lambda pk: -counts[pk])[:5] or sorted(variants)[:3]
        for month in (demo.last_month, demo.this_month):
            for pk in busiest:
                if UsageForecast.objects.filter(organisation=organisation, month=month, srv_id=pk).exists():
                    continue
                forecast = int(counts.get(pk, 1000) * rng.uniform(0.85, 1.15))
                services.forecast_set(actor=person, organisation=organisation, month=month, srv=variants[pk],
                                      forecast=max(forecast, 1))
                written += 1
    return written


def load(stdout=None):
    demo = Demo()
    if demo.ops is None or demo.admin is None:
        if stdout:
            stdout.write("servicedesk: no DCC people (load the portal demo first); nothing loaded")
        return
    _components(demo)
    _background_history(demo)
    _incidents(demo)
    _alerts(demo)
    _maintenance(demo)
    forecasts = _forecasts(demo)
    # The scheduled task's work: resolved incidents past their re-open window close.
    closed = services.incidents_auto_close(now=timezone.now())
    if stdout:
        stdout.write(f"servicedesk: {len(demo.components)} components, {Incident.objects.count()} incidents "
                     f"({Incident.objects.filter(status=IncidentStatus.CLOSED).count()} closed, {len(closed)} "
                     f"closed now), {ServiceAlert.objects.count()} service alerts, "
                     f"{PlannedMaintenance.objects.count()} maintenance windows, {forecasts} forecasts written")

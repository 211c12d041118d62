"""Reads of the service desk: what a person may see of incidents and their timelines, the
incident clock of each incident (where it is listed, with its time left and breach), the
organisations a major incident affects, and availability per component per month."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from inventory.models import Device
from portal.choices import OrganisationKind
from portal.models import Organisation
from portal.scoping import VIEW, scope
from servicedesk import clock
from servicedesk.choices import MaintenanceStatus
from servicedesk.defaults import DEFAULT_TARGETS
from servicedesk.models import (
    ClockPause,
    Incident,
    IncidentUpdate,
    Outage,
    PlannedMaintenance,
    ServiceComponent,
    TargetTime,
)

LONDON = clock.LONDON


# --- incidents -------------------------------------------------------------------------------

def incidents_visible(user: Any) -> QuerySet[Incident]:
    """The incidents ``user`` may see: DCC all, a service user those its organisation raised or
    is an interested party of, anyone else none."""
    return scope(user, Incident.objects.select_related("organisation", "resolver", "assignee"), VIEW)


def timeline(user: Any, incident: Incident) -> QuerySet[IncidentUpdate]:
    """The incident's updates ``user`` may read (DCC-internal ones only for DCC), oldest first."""
    return scope(user, IncidentUpdate.objects.filter(incident=incident).select_related("author"), VIEW)


def incidents_by_reference(user: Any, kind: str, value: str) -> QuerySet[Incident]:
    """Incidents naming a device (EUI-64) or a service request (request id), as ``user`` sees them."""
    return incidents_visible(user).filter(references__kind=kind, references__value=value).distinct()


def targets() -> dict[int, TargetTime]:
    """The target time of each category: the table's rows, its shipped defaults where a row is missing."""
    rows = {row.category: row for row in TargetTime.objects.all()}
    for category, (response, resolution, basis) in DEFAULT_TARGETS.items():
        rows.setdefault(category, TargetTime(category=category, response_minutes=response,
                                             resolution_minutes=resolution, basis=basis))
    return rows


@dataclass(frozen=True)
class IncidentClock:
    """Both clocks of one incident at one instant."""

    response: clock.ClockState
    resolution: clock.ClockState

    @property
    def breached(self) -> bool:
        return self.response.breached or self.resolution.breached


def incident_clock(incident: Incident, *, now: dt.datetime | None = None,
                   target_table: dict[int, TargetTime] | None = None,
                   pauses: list[ClockPause] | None = None) -> IncidentClock:
    """The response and resolution clocks of ``incident`` at ``now`` (default: now). Both run from
    ``raised_at`` against its category's targets and stand still during its pauses; the response
    clock stops at DCC's first response, the resolution clock at the resolution."""
    now = now or timezone.now()
    row = (target_table or targets())[incident.category]
    pauses = list(incident.pauses.all()) if pauses is None else pauses
    spans = [(p.started_at, p.ended_at) for p in pauses]
    working = row.working_hours
    return IncidentClock(
        response=clock.state(incident.raised_at, clock.Target(row.response_minutes, working), now=now,
                             pauses=spans, stopped_at=incident.responded_at),
        resolution=clock.state(incident.raised_at, clock.Target(row.resolution_minutes, working), now=now,
                               pauses=spans, stopped_at=incident.resolved_at),
    )


def with_clocks(incidents: QuerySet[Incident] | list[Incident], *,
                now: dt.datetime | None = None) -> list[tuple[Incident, IncidentClock]]:
    """Each incident with its clocks, for a page of a list: the targets are read once and the
    pauses in one query, whatever the number of rows."""
    now = now or timezone.now()
    table = targets()
    if isinstance(incidents, QuerySet):
        pauses = Prefetch("pauses", queryset=ClockPause.objects.order_by("started_at"))
        incidents = list(incidents.prefetch_related(pauses))
    return [(incident, incident_clock(incident, now=now, target_table=table)) for incident in incidents]


@dataclass(frozen=True)
class ClockReading:
    """One clock (``response`` or ``resolution``) of one incident as the monthly incident
    measures read it (slas.incidents): who raised it, who resolves it (organisation code, ""
    while unassigned), its category, the clock time counted, when it stopped for good and, if it
    passed its target, the instant it did."""

    incident_id: int
    reference: str
    organisation_id: int
    resolver: str
    category: int
    clock: str
    target: dt.timedelta
    elapsed: dt.timedelta
    stopped_at: dt.datetime | None
    breached_at: dt.datetime | None


def clock_readings(start: dt.datetime, end: dt.datetime, *,
                   now: dt.datetime | None = None) -> list[ClockReading]:
    """Both clocks, read at ``now``, of every incident that can be decided in [start, end): raised
    before ``end`` with a clock that had not stopped before ``start``. One query for the incidents
    and one for their pauses; the targets are read once."""
    now = now or timezone.now()
    table = targets()
    candidates = (Incident.objects.filter(raised_at__lt=end)
                  .filter(Q(responded_at__isnull=True) | Q(responded_at__gte=start)
                          | Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
                  .select_related("resolver").order_by("pk"))
    readings = []
    for incident, clocks in with_clocks(candidates, now=now):
        row = table[incident.category]
        spans = [(p.started_at, p.ended_at) for p in incident.pauses.all()]
        for name, state in (("response", clocks.response), ("resolution", clocks.resolution)):
            breached_at = None
            if state.breached:
                # The instant the target was passed: pauses after it (closed here where the count
                # ends) cannot move it, so the due time over the pauses so far is that instant.
                until = state.stopped_at or now
                closed = [(a, b if b is not None and b <= until else until) for a, b in spans if a < until]
                breached_at = clock.due_at(incident.raised_at, state.target, closed)
            readings.append(ClockReading(
                incident_id=incident.pk, reference=incident.reference, organisation_id=incident.organisation_id,
                resolver=incident.resolver.code if incident.resolver else "", category=row.category,
                clock=name, target=state.target.duration, elapsed=state.elapsed, stopped_at=state.stopped_at,
                breached_at=breached_at))
    return readings


def affected_organisations(incident: Incident) -> list[Organisation]:
    """Who a major incident affects: its own organisation, its interested parties, and every
    active service user with devices in its regions (every active service user when it names
    no region: the service as a whole is affected)."""
    service_users = Organisation.objects.filter(kind=OrganisationKind.SERVICE_USER, is_active=True)
    if incident.regions:
        service_users = service_users.filter(
            Exists(Device.objects.filter(supplier=OuterRef("pk"), region__in=incident.regions)))
    chosen = Q(pk__in=service_users.values("pk")) | Q(pk=incident.organisation_id)
    chosen |= Q(pk__in=incident.interested_parties.values("pk"))
    return list(Organisation.objects.filter(chosen).order_by("name"))


# --- availability ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Availability:
    """One component's month: ``minutes`` in the London month (743 or 745 at a clock change),
    ``maintenance`` minutes of agreed planned maintenance, ``outage`` minutes of unplanned
    downtime outside it, and ``percent`` = (minutes - maintenance - outage) / (minutes -
    maintenance) x 100: planned maintenance does not count against DCC (DOMAIN.md section 8)."""

    component: ServiceComponent
    month: dt.date
    minutes: Decimal
    maintenance: Decimal
    outage: Decimal

    @property
    def available(self) -> Decimal:
        return self.minutes - self.maintenance - self.outage

    @property
    def percent(self) -> Decimal:
        base = self.minutes - self.maintenance
        if base <= 0:
            return Decimal("100.000")
        return (self.available / base * 100).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of London midnight at the start of ``month`` and of the next month."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return clock.london_midnight(first), clock.london_midnight(following)


def _minutes(spans: list[tuple[dt.datetime, dt.datetime]]) -> Decimal:
    return Decimal(sum((b - a).total_seconds() for a, b in spans)) / 60


def _clip(spans: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime,
          end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(max(a, start), min(b, end)) for a, b in spans if b > start and a < end]


def _subtract(spans: list[tuple[dt.datetime, dt.datetime]],
              holes: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out = []
    for a, b in spans:
        pieces = [(a, b)]
        for p, q in holes:
            pieces = [piece for x, y in pieces for piece in ((x, min(y, p)), (max(x, q), y)) if piece[1] > piece[0]]
        out += pieces
    return out


def availability(component: ServiceComponent, month: dt.date, *, now: dt.datetime | None = None) -> Availability:
    """The component's availability in the London ``month``. Planned maintenance counts once it
    is agreed (approved or announced; cancelled does not); overlapping windows and outages are
    merged so no minute counts twice, and an outage minute inside a maintenance window counts as
    maintenance. An outage still open counts up to ``now``."""
    now = now or timezone.now()
    start, end = month_bounds(month)
    windows = PlannedMaintenance.objects.filter(
        components=component, status__in=(MaintenanceStatus.APPROVED, MaintenanceStatus.ANNOUNCED),
        start_at__lt=end, end_at__gt=start).values_list("start_at", "end_at")
    maintenance = clock.union(_clip(list(windows), start, end))
    outages = Outage.objects.filter(component=component, started_at__lt=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start)).values_list("started_at", "ended_at")
    down = clock.union(_clip([(a, b or max(a, min(now, end))) for a, b in outages], start, end))
    down = _subtract(down, maintenance)
    return Availability(component=component, month=month.replace(day=1),
                        minutes=Decimal((end - start).total_seconds()) / 60,
                        maintenance=_minutes(maintenance), outage=_minutes(down))


def availability_month(month: dt.date, *, now: dt.datetime | None = None) -> list[Availability]:
    """Availability of every active component in ``month`` (the monthly report's table)."""
    return [availability(component, month, now=now) for component in ServiceComponent.objects.filter(is_active=True)]

"""Writes of the service desk. Every service takes keyword arguments, checks who may (portal.access),
checks the record (full_clean), runs in one transaction, is attributed to its actor in the audit
trail and, where people should hear of it, publishes an event (portal.events.publish).

The incident clock is servicedesk.clock; these services move what it reads: ``raised_at``, the
pauses (awaiting the user; resolved until re-opened), ``responded_at`` and ``resolved_at``, and
keep ``response_due_at``/``resolution_due_at`` current for lists and reminders.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from portal import calendar_uk, events
from portal.access import require
from portal.choices import OrganisationKind
from portal.ids import normalise_eui64
from portal.models import Organisation, User
from servicedesk import attachments, clock, selectors
from servicedesk.choices import (
    MONTHLY_REPORTS,
    OPEN_STATUSES,
    WORK_STATUSES,
    Channel,
    ComponentStatus,
    DeliveryState,
    IncidentCategory,
    IncidentStatus,
    MaintenanceStatus,
    PauseReason,
    ProblemStatus,
    ReportKind,
    TargetBasis,
    UpdateKind,
    Visibility,
)
from servicedesk.models import (
    ClockPause,
    ComponentStatusChange,
    DeskPolicy,
    Incident,
    IncidentAttachment,
    IncidentReference,
    IncidentUpdate,
    MajorIncidentReport,
    Outage,
    PlannedMaintenance,
    Problem,
    ReferenceCounter,
    SelfServiceReportDelivery,
    ServiceAlert,
    ServiceAlertUpdate,
    ServiceComponent,
    TargetTime,
    UsageForecast,
)

PREFIXES = {"incident": "INC", "problem": "PRB", "service_alert": "SA", "maintenance": "PM"}


# --- shared pieces ---------------------------------------------------------------------------

def _allocate(name: str) -> str:
    """The next reference of ``name`` (INC000124...). The counter row is locked until the
    caller's transaction ends, so concurrent writers queue, numbers are never given twice, and a
    write that rolls back gives its number back: the log has no gaps."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("references are allocated inside the transaction that writes the record")
    counter = ReferenceCounter.objects.select_for_update().filter(name=name).first()
    if counter is None:  # shipped by the data migration; a flushed test database lacks it
        # get_or_create (in a savepoint) tolerates only a racing writer's row of the same name;
        # ON CONFLICT DO NOTHING also swallowed any other conflict and then found no row.
        ReferenceCounter.objects.get_or_create(name=name)
        counter = ReferenceCounter.objects.select_for_update().get(name=name)
    counter.value += 1
    counter.save(update_fields=["value"])
    return f"{PREFIXES[name]}{counter.value:06d}"


def _save(obj: Any) -> Any:
    obj.full_clean()
    obj.save()
    return obj


def _locked(incident: Incident) -> Incident:
    # of=("self",): PostgreSQL refuses to lock the nullable side of the outer joins.
    return (Incident.objects.select_for_update(of=("self",))
            .select_related("organisation", "raised_by", "assignee").get(pk=incident.pk))


@contextmanager
def _changing(actor: Any, incident: Incident) -> Iterator[tuple[Incident, dt.datetime]]:
    """A step of an incident's life: the incident locked until the transaction ends (steps of one
    incident queue), the audit entries written under the actor's name, and the moment of the step."""
    now = timezone.now()
    with set_actor(actor):
        yield _locked(incident), now


def _refresh_due(incident: Incident, now: dt.datetime) -> None:
    """Keep the stored due times in step with the clock (None while it is paused)."""
    state = selectors.incident_clock(incident, now=now, pauses=None if incident.pk else [])
    incident.response_due_at = state.response.due_at
    incident.resolution_due_at = state.resolution.due_at


def _record(incident: Incident, *, kind: str, actor: Any, now: dt.datetime, text: str = "",
            visibility: str = Visibility.PARTIES, data: dict | None = None) -> IncidentUpdate:
    return _save(IncidentUpdate(incident=incident, kind=kind, visibility=visibility, text=text, data=data or {},
                                author=actor, created_at=now))


def _respond(incident: Incident, actor: Any, now: dt.datetime) -> None:
    """DCC's first action the parties can see is its response: it stops the response clock."""
    if incident.responded_at is None and actor is not None and actor.is_dcc:
        incident.responded_at = now


def _moved(incident: Incident, actor: Any, now: dt.datetime, *, respond: bool = True) -> None:
    """The end of a step of an incident's life: (when the step counts as DCC's response) the
    response clock stops, the due times follow the clock, and the incident is checked and saved."""
    if respond:
        _respond(incident, actor, now)
    _refresh_due(incident, now)
    _save(incident)


def _required_text(value: str | None, field: str, missing: str) -> str:
    """A free text a step cannot do without, stripped; a blank one is refused naming its field."""
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: missing})
    return text


def _set_status(incident: Incident, status: str, *, actor: Any, now: dt.datetime, text: str = "",
                extra: dict | None = None) -> None:
    if incident.status == status:
        return
    _record(incident, kind=UpdateKind.STATUS_CHANGE, actor=actor, now=now, text=text,
            data={"from": incident.status, "to": str(status), **(extra or {})})
    incident.status = status


def _people_to_tell(incident: Incident, actor: Any) -> list[User]:
    """The raiser and the assignee, unless they did it themselves (watchers hear anyway)."""
    people = []
    for person in (incident.raised_by, incident.assignee):
        if person is not None and person.is_active and person != actor and person not in people:
            people.append(person)
    return people


def _announce(event: str, incident: Incident, actor: Any, summary: str) -> None:
    # The interested parties follow the incident: their webhooks hear its events as the raiser's do.
    events.publish(event, obj=incident, organisation=incident.organisation,
                   parties=list(incident.interested_parties.all()),
                   recipients=_people_to_tell(incident, actor), summary=summary,
                   url=incident.get_absolute_url(),
                   payload={"reference": incident.reference, "status": incident.status,
                            "category": incident.category})


def _open_pause(incident: Incident) -> ClockPause | None:
    return incident.pauses.filter(ended_at__isnull=True).first()


def _end_pause(incident: Incident, now: dt.datetime) -> None:
    pause = _open_pause(incident)
    if pause is not None:
        pause.ended_at = now
        _save(pause)


def _require_open(incident: Incident, doing: str) -> None:
    if incident.status not in OPEN_STATUSES:
        raise ValidationError({"status": f"{incident.reference} is {incident.get_status_display().lower()}: "
                                         f"it cannot be {doing}"})


def _devices(values: Iterable[str]) -> list[str]:
    out = []
    for value in values:
        try:
            canonical = normalise_eui64(value, field="device")
        except ValidationError as exc:
            raise ValidationError({"devices": exc.messages}) from None
        if canonical not in out:
            out.append(canonical)
    return out


def _requests(values: Iterable[str]) -> list[str]:
    out = []
    for value in values:
        text = (value or "").strip()
        if not text or len(text) > 80 or any(c.isspace() for c in text):
            raise ValidationError({"service_requests": f"{value!r} is not a request id (up to 80 characters, "
                                                       "no spaces)"})
        if text not in out:
            out.append(text)
    return out


def _category(value: Any, field: str) -> int:
    try:
        return IncidentCategory(int(value)).value
    except (TypeError, ValueError):
        raise ValidationError({field: f"{value!r} is not an incident category (1 most severe to 5 least)"}) from None


# --- raising ---------------------------------------------------------------------------------

@transaction.atomic
def incident_raise(*, actor: User, summary: str, description: str, proposed_category: int,
                   organisation: Organisation | None = None, raised_by: User | None = None, caller: str = "",
                   channel: str = Channel.PORTAL, affected_items: Iterable[Any] = (), devices: Iterable[str] = (),
                   service_requests: Iterable[str] = (), regions: Iterable[str] = (),
                   interested_parties: Iterable[Organisation] = (), now: dt.datetime | None = None) -> Incident:
    """Record a new incident (browser, API and file import all come here). A service user raises
    its own organisation's incidents; DCC may log one on behalf of a service user (naming the
    person, or the caller when they have no login) or for itself when a party that is not a user
    called the Service Desk. The raiser's proposed category is the category until DCC sets it."""
    now = now or timezone.now()
    organisation = organisation or actor.organisation
    if organisation is None:
        raise ValidationError({"organisation": "say which organisation the incident is for"})
    require(actor, "servicedesk.incident.add", organisation=organisation)
    on_behalf = organisation != actor.organisation
    if raised_by is None and not on_behalf:
        raised_by = actor
    if raised_by is not None and raised_by.organisation_id != organisation.pk:
        raise ValidationError({"raised_by": f"{raised_by} is not a person of {organisation}"})
    if on_behalf and raised_by is None and not caller.strip():
        raise ValidationError({"caller": "name the person of the organisation or the caller it is logged for"})
    if on_behalf and channel == Channel.PORTAL:
        channel = Channel.SERVICE_DESK
    category = _category(proposed_category, "proposed_category")
    parties = [party for party in interested_parties if party.pk != organisation.pk]
    device_ids, request_ids = _devices(devices), _requests(service_requests)
    with set_actor(actor):
        incident = Incident(summary=summary, description=description, organisation=organisation,
                            raised_by=raised_by, logged_by=actor if on_behalf else None, caller=caller.strip(),
                            channel=channel, proposed_category=category, category=category,
                            regions=list(regions), raised_at=now)
        incident.reference = _allocate("incident")
        incident.number = int(incident.reference[3:])
        _moved(incident, actor, now, respond=False)
        incident.affected_items.set(list(affected_items))
        incident.interested_parties.set(parties)
        IncidentReference.objects.bulk_create(
            [IncidentReference(incident=incident, kind=IncidentReference.Kind.DEVICE, value=v) for v in device_ids]
            + [IncidentReference(incident=incident, kind=IncidentReference.Kind.SERVICE_REQUEST, value=v)
               for v in request_ids])
        _record(incident, kind=UpdateKind.STATUS_CHANGE, actor=actor, now=now,
                text=f"Raised through {incident.get_channel_display().lower()}",
                data={"from": "", "to": IncidentStatus.NEW})
    _announce("incident.created", incident, actor, f"{incident.reference} raised: {incident.summary}")
    return incident


# --- working on it ---------------------------------------------------------------------------

@transaction.atomic
def incident_assign(*, actor: User, incident: Incident, resolver: Organisation, assignee: User | None = None,
                    note: str = "") -> Incident:
    """Allocate responsibility (SEC H9): the resolver (DCC, DSP, a CSP or another provider) and,
    optionally, the person working on it (DCC staff or the resolver's)."""
    require(actor, "servicedesk.incident.manage", incident)
    with _changing(actor, incident) as (incident, now):
        _require_open(incident, "assigned")
        if resolver.kind not in (OrganisationKind.DCC, OrganisationKind.PROVIDER):
            raise ValidationError({"resolver": f"{resolver} is not DCC or a service provider"})
        if assignee is not None and not (assignee.is_dcc or assignee.organisation_id == resolver.pk):
            raise ValidationError({"assignee": f"{assignee} works neither for DCC nor for {resolver}"})
        previous = {"resolver": incident.resolver.code if incident.resolver else "",
                    "assignee": incident.assignee.username if incident.assignee else ""}
        incident.resolver, incident.assignee = resolver, assignee
        _record(incident, kind=UpdateKind.ASSIGNMENT, actor=actor, now=now, text=note,
                data={"from": previous, "to": {"resolver": resolver.code,
                                               "assignee": assignee.username if assignee else ""}})
        if incident.status == IncidentStatus.NEW:
            _set_status(incident, IncidentStatus.ASSIGNED, actor=actor, now=now)
        _moved(incident, actor, now)
    _announce("incident.updated", incident, actor, f"{incident.reference} assigned to {resolver}")
    return incident


@transaction.atomic
def incident_set_status(*, actor: User, incident: Incident, status: str, note: str = "") -> Incident:
    """Move an open incident between assigned and in progress. Awaiting the user, resolving,
    closing and re-opening have their own services (they move the clock)."""
    require(actor, "servicedesk.incident.manage", incident)
    if status not in WORK_STATUSES:
        raise ValidationError({"status": f"use the service for {status!r}: only assigned and in progress are set "
                                         "by hand"})
    with _changing(actor, incident) as (incident, now):
        _require_open(incident, "moved")
        if incident.status == IncidentStatus.AWAITING_USER:
            raise ValidationError({"status": f"{incident.reference} awaits the user: their answer moves it on"})
        _set_status(incident, status, actor=actor, now=now, text=note)
        _moved(incident, actor, now)
    _announce("incident.updated", incident, actor, f"{incident.reference} is {incident.get_status_display().lower()}")
    return incident


@transaction.atomic
def incident_set_category(*, actor: User, incident: Incident, category: int, reason: str) -> Incident:
    """DCC sets the category (or changes it) with a reason, kept on the timeline; the clock is
    measured against the new category's targets from when the incident was raised."""
    require(actor, "servicedesk.incident.manage", incident)
    category = _category(category, "category")
    reason = _required_text(reason, "reason", "say why the category is set or changed")
    with _changing(actor, incident) as (incident, now):
        if incident.status == IncidentStatus.CLOSED:
            raise ValidationError({"category": f"{incident.reference} is closed"})
        _record(incident, kind=UpdateKind.CATEGORY_CHANGE, actor=actor, now=now, text=reason.strip(),
                data={"from": incident.category, "to": category, "proposed": incident.proposed_category})
        incident.category, incident.category_set_by = category, actor
        _moved(incident, actor, now)
    _announce("incident.updated", incident, actor, f"{incident.reference} is category {category}")
    return incident


@transaction.atomic
def incident_add_update(*, actor: User, incident: Incident, text: str, kind: str = UpdateKind.NOTE,
                        visibility: str = Visibility.PARTIES) -> IncidentUpdate:
    """A note or a workaround on the timeline. The incident's own organisation and DCC write to
    it (interested parties follow it); a workaround and DCC-internal notes are DCC's."""
    require(actor, "servicedesk.incident.change", incident)
    if kind not in (UpdateKind.NOTE, UpdateKind.WORKAROUND):
        raise ValidationError({"kind": f"{kind!r} entries are written by their own service"})
    if (kind == UpdateKind.WORKAROUND or visibility == Visibility.INTERNAL) and not actor.is_dcc:
        raise PermissionDenied("Only DCC writes workarounds and internal notes.")
    if visibility == Visibility.INTERNAL:
        require(actor, "servicedesk.incident.view_internal")
    text = _required_text(text, "text", "write something")
    with _changing(actor, incident) as (incident, now):
        if incident.status == IncidentStatus.CLOSED:
            raise ValidationError({"text": f"{incident.reference} is closed: raise a new incident and link it"})
        update = _record(incident, kind=kind, actor=actor, now=now, text=text.strip(), visibility=visibility)
        if visibility == Visibility.PARTIES:
            _respond(incident, actor, now)
            _refresh_due(incident, now)
        _save(incident)
    if visibility == Visibility.PARTIES:
        _announce("incident.updated", incident, actor, f"{incident.reference}: {update.get_kind_display().lower()} "
                                                       f"from {actor}")
    return update


@transaction.atomic
def incident_request_information(*, actor: User, incident: Incident, text: str) -> Incident:
    """DCC asks the user for information: the incident awaits the user and its clock stops
    until they answer (the pause is kept as a record)."""
    require(actor, "servicedesk.incident.manage", incident)
    text = _required_text(text, "text", "say what information is needed")
    with _changing(actor, incident) as (incident, now):
        _require_open(incident, "put on hold")
        if incident.status == IncidentStatus.AWAITING_USER:
            raise ValidationError({"status": f"{incident.reference} already awaits the user"})
        _record(incident, kind=UpdateKind.REQUEST_FOR_INFORMATION, actor=actor, now=now, text=text.strip())
        _set_status(incident, IncidentStatus.AWAITING_USER, actor=actor, now=now)
        _save(ClockPause(incident=incident, reason=PauseReason.AWAITING_USER, started_at=now))
        _moved(incident, actor, now)
    _announce("incident.updated", incident, actor, f"{incident.reference}: DCC needs information from you")
    return incident


@transaction.atomic
def incident_answer(*, actor: User, incident: Incident, text: str) -> Incident:
    """The user answers a request for information: the clock restarts where it stopped and the
    incident is in progress again. DCC may record an answer given by phone."""
    require(actor, "servicedesk.incident.change", incident)
    text = _required_text(text, "text", "write the answer")
    with _changing(actor, incident) as (incident, now):
        if incident.status != IncidentStatus.AWAITING_USER:
            raise ValidationError({"status": f"{incident.reference} is not awaiting an answer"})
        _record(incident, kind=UpdateKind.RESPONSE, actor=actor, now=now, text=text.strip())
        _end_pause(incident, now)
        _set_status(incident, IncidentStatus.IN_PROGRESS, actor=actor, now=now)
        _moved(incident, actor, now, respond=False)
    _announce("incident.updated", incident, actor, f"{incident.reference}: the user answered")
    return incident


@transaction.atomic
def incident_resolve(*, actor: User, incident: Incident, resolution: str) -> Incident:
    """DCC resolves the incident: the resolution clock stops. It closes by itself after the
    policy's working days unless the raiser re-opens it first."""
    require(actor, "servicedesk.incident.manage", incident)
    resolution = _required_text(resolution, "resolution", "say how it was resolved")
    with _changing(actor, incident) as (incident, now):
        _require_open(incident, "resolved")
        _end_pause(incident, now)
        _record(incident, kind=UpdateKind.RESOLUTION, actor=actor, now=now, text=resolution.strip())
        _set_status(incident, IncidentStatus.RESOLVED, actor=actor, now=now)
        incident.resolved_at = now
        _moved(incident, actor, now)
    _announce("incident.resolved", incident, actor, f"{incident.reference} resolved")
    return incident


def auto_close_at(resolved_at: dt.datetime, working_days: int) -> dt.datetime:
    """When a resolved incident closes by itself: the same London time of day, ``working_days``
    working days after the day it was resolved (counted from the next working day when it was
    resolved on a weekend or bank holiday)."""
    local = resolved_at.astimezone(clock.LONDON)
    closing = calendar_uk.add_working_days(local.date(), working_days)  # from the next working day if need be
    return dt.datetime.combine(closing, local.time(), tzinfo=clock.LONDON).astimezone(dt.UTC)


@transaction.atomic
def incident_close(*, actor: User | None, incident: Incident, note: str = "",
                   now: dt.datetime | None = None) -> Incident:
    """Close a resolved incident: its raiser confirms, DCC closes it, or (``actor`` None) the
    auto-close task does when the re-open window has passed. Closed is final."""
    if actor is not None:
        require(actor, "servicedesk.incident.change", incident)
    now = now or timezone.now()
    with set_actor(actor):
        incident = _locked(incident)
        if incident.status != IncidentStatus.RESOLVED:
            raise ValidationError({"status": f"{incident.reference} is not resolved: only a resolved incident closes"})
        text = note or ("Closed automatically: not re-opened within the window" if actor is None else "")
        _set_status(incident, IncidentStatus.CLOSED, actor=actor, now=now, text=text)
        incident.closed_at = now
        _save(incident)
    _announce("incident.updated", incident, actor, f"{incident.reference} closed")
    return incident


@transaction.atomic
def incident_reopen(*, actor: User, incident: Incident, reason: str) -> Incident:
    """The raiser (or DCC) re-opens a resolved incident within the window: same reference, the
    clock history kept. The time it lay resolved becomes a pause, so the resolution clock runs
    on from where it stopped."""
    require(actor, "servicedesk.incident.change", incident)
    reason = _required_text(reason, "reason", "say why the incident is not resolved")
    now = timezone.now()
    policy = DeskPolicy.current()
    with set_actor(actor):
        incident = _locked(incident)
        resolved_at = incident.resolved_at
        if incident.status != IncidentStatus.RESOLVED or resolved_at is None:
            raise ValidationError({"status": f"{incident.reference} is {incident.get_status_display().lower()}: "
                                             "only a resolved incident is re-opened (raise a new one and link it "
                                             "as a repeat)"})
        if now >= auto_close_at(resolved_at, policy.auto_close_working_days):
            raise ValidationError({"status": f"{incident.reference} was resolved more than "
                                             f"{policy.auto_close_working_days} working days ago: raise a new "
                                             "incident and link it as a repeat"})
        _save(ClockPause(incident=incident, reason=PauseReason.RESOLVED, started_at=resolved_at, ended_at=now))
        _set_status(incident, IncidentStatus.IN_PROGRESS, actor=actor, now=now, text=reason.strip(),
                    extra={"reopened": True, "resolved_at": resolved_at.isoformat()})
        incident.resolved_at = None
        incident.reopened_count += 1
        _moved(incident, actor, now, respond=False)
    _announce("incident.reopened", incident, actor, f"{incident.reference} re-opened: {reason.strip()[:120]}")
    return incident


def incidents_auto_close(*, now: dt.datetime | None = None) -> list[str]:
    """Close every resolved incident whose re-open window has passed (the scheduled task).
    Each incident closes in its own transaction, so one failure does not hold back the rest."""
    now = now or timezone.now()
    days = DeskPolicy.current().auto_close_working_days
    # N working days are at least N calendar days: only incidents resolved before that can be due.
    candidates = Incident.objects.filter(status=IncidentStatus.RESOLVED,
                                         resolved_at__lte=now - dt.timedelta(days=days))
    closed = []
    for incident in candidates.order_by("resolved_at"):
        if incident.resolved_at is not None and auto_close_at(incident.resolved_at, days) <= now:
            incident_close(actor=None, incident=incident, now=now)
            closed.append(incident.reference)
    return closed


# --- attachments -----------------------------------------------------------------------------

@transaction.atomic
def incident_attach(*, actor: User, incident: Incident, filename: str, content: bytes,
                    visibility: str = Visibility.PARTIES, update: IncidentUpdate | None = None) -> IncidentAttachment:
    """Attach a file to an incident: size-limited (the desk policy), its type found from its
    content (servicedesk.attachments), stored under MEDIA_ROOT with the incident."""
    require(actor, "servicedesk.incident.change", incident)
    if visibility == Visibility.INTERNAL:
        require(actor, "servicedesk.incident.view_internal")
    content_type = attachments.check(filename=filename, content=content,
                                     max_bytes=DeskPolicy.current().attachment_max_bytes)
    if update is not None and update.incident_id != incident.pk:
        raise ValidationError({"update": "that update belongs to another incident"})
    name = attachments.safe_name(filename)
    digest = hashlib.sha256(content).hexdigest()
    with set_actor(actor):
        attachment = IncidentAttachment(incident=incident, update=update, filename=name, content_type=content_type,
                                        size=len(content), sha256=digest, visibility=visibility, uploaded_by=actor,
                                        uploaded_at=timezone.now())
        attachment.file.save(name, ContentFile(content), save=False)
        try:
            _save(attachment)
        except ValidationError:
            attachment.file.delete(save=False)
            raise
    return attachment


# --- repeats, problems, parties --------------------------------------------------------------

@transaction.atomic
def incident_link_repeat(*, actor: User, incident: Incident, earlier: Incident) -> Incident:
    """Mark ``incident`` as a repeat of an earlier one. The link is a DCC-internal entry when
    the two belong to different organisations (neither learns of the other's incident)."""
    require(actor, "servicedesk.incident.manage", incident)
    if earlier.number >= incident.number:
        raise ValidationError({"repeat_of": f"{earlier.reference} is not earlier than {incident.reference}"})
    with _changing(actor, incident) as (incident, now):
        incident.repeat_of = earlier
        shared = earlier.organisation_id == incident.organisation_id
        _record(incident, kind=UpdateKind.NOTE, actor=actor, now=now, text=f"Repeat of {earlier.reference}",
                visibility=Visibility.PARTIES if shared else Visibility.INTERNAL,
                data={"repeat_of": earlier.reference})
        _save(incident)
    return incident


@transaction.atomic
def problem_create(*, actor: User, title: str, description: str = "", incidents: Iterable[Incident] = ()) -> Problem:
    """Open a problem record and group incidents under it."""
    require(actor, "servicedesk.incident.manage")
    with set_actor(actor):
        problem = Problem(title=title, description=description, created_by=actor, created_at=timezone.now())
        problem.reference = _allocate("problem")
        _save(problem)
    for incident in incidents:
        incident_link_problem(actor=actor, incident=incident, problem=problem)
    return problem


@transaction.atomic
def problem_update(*, actor: User, problem: Problem, root_cause: str | None = None, fix: str | None = None,
                   status: str | None = None) -> Problem:
    """Record the root cause and the fix as they are found; resolving needs both."""
    require(actor, "servicedesk.incident.manage")
    with set_actor(actor):
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        if root_cause is not None:
            problem.root_cause = root_cause
        if fix is not None:
            problem.fix = fix
        if status is not None:
            if status not in ProblemStatus.values:
                raise ValidationError({"status": f"{status!r} is not a problem status"})
            if status in (ProblemStatus.RESOLVED, ProblemStatus.CLOSED) and not (problem.root_cause and problem.fix):
                raise ValidationError({"status": "record the root cause and the fix before resolving the problem"})
            if status == ProblemStatus.RESOLVED and problem.resolved_at is None:
                problem.resolved_at = timezone.now()
            problem.status = status
        _save(problem)
    return problem


@transaction.atomic
def incident_link_problem(*, actor: User, incident: Incident, problem: Problem | None) -> Incident:
    """Group the incident under a problem (None: take it out). Problems are DCC's: the entry is
    internal."""
    require(actor, "servicedesk.incident.manage", incident)
    with set_actor(actor):
        incident = _locked(incident)
        incident.problem = problem
        _record(incident, kind=UpdateKind.NOTE, actor=actor, now=timezone.now(), visibility=Visibility.INTERNAL,
                text=f"Linked to problem {problem.reference}" if problem else "Taken out of its problem",
                data={"problem": problem.reference if problem else ""})
        _save(incident)
    return incident


@transaction.atomic
def incident_set_parties(*, actor: User, incident: Incident, parties: Iterable[Organisation]) -> Incident:
    """Name the other organisations interested in the incident (SEC H9): they may see and follow
    it, never change it."""
    require(actor, "servicedesk.incident.manage", incident)
    parties = [p for p in parties if p.pk != incident.organisation_id]
    with set_actor(actor):
        incident = _locked(incident)
        incident.interested_parties.set(parties)
        _record(incident, kind=UpdateKind.NOTE, actor=actor, now=timezone.now(), visibility=Visibility.INTERNAL,
                text="Interested parties: " + (", ".join(sorted(p.code for p in parties)) or "none"),
                data={"interested_parties": sorted(p.code for p in parties)})
    return incident


# --- major incidents -------------------------------------------------------------------------

@transaction.atomic
def incident_flag_major(*, actor: User, incident: Incident, alert_title: str = "", alert_description: str = "",
                        components: Iterable[ServiceComponent] = (),
                        expected_resolution_at: dt.datetime | None = None) -> ServiceAlert:
    """DCC flags a major incident: a service alert is published at once (in DCC's words, not the
    raiser's), every affected organisation is told, and the major incident report falls due in
    the policy's working days."""
    require(actor, "servicedesk.incident.manage", incident)
    now = timezone.now()
    policy = DeskPolicy.current()
    with set_actor(actor):
        incident = _locked(incident)
        if incident.is_major:
            raise ValidationError({"is_major": f"{incident.reference} is already a major incident"})
        _require_open(incident, "flagged major")
        due_day = calendar_uk.add_working_days(now.astimezone(clock.LONDON).date(), policy.major_report_working_days)
        incident.is_major, incident.major_at = True, now
        incident.major_report_due_at = dt.datetime.combine(due_day, dt.time(17, 0), tzinfo=clock.LONDON)
        _record(incident, kind=UpdateKind.NOTE, actor=actor, now=now, text="Flagged as a major incident",
                data={"major": True, "report_due": f"{due_day:%Y-%m-%d}"})
        _moved(incident, actor, now)
        components = list(components) or list(ServiceComponent.objects.filter(item__in=incident.affected_items.all()))
        where = ", ".join(sorted(incident.regions)) or "all regions"
        organisations = selectors.affected_organisations(incident)
        people = list(User.objects.filter(organisation__in=organisations, is_active=True))
        alert = service_alert_publish(
            actor=actor, title=alert_title or f"Major incident {incident.reference}",
            description=alert_description or f"DCC is handling a major incident affecting {where}. "
                                             "Updates follow here.",
            components=components, regions=incident.regions, expected_resolution_at=expected_resolution_at,
            incident=incident, recipients=people)
    return alert


@transaction.atomic
def major_report_write(*, actor: User, incident: Incident, summary: str, timeline: str, impact: str,
                       root_cause: str, actions: str, reason: str = "") -> MajorIncidentReport:
    """Write the next version of the incident's major incident report. A version after the
    first says why it replaces the last; none is ever edited."""
    require(actor, "servicedesk.majorincidentreport.add")
    with set_actor(actor):
        incident = _locked(incident)  # versions of one incident are numbered one at a time
        if not incident.is_major:
            raise ValidationError({"incident": f"{incident.reference} is not a major incident"})
        last = incident.major_reports.aggregate(last=Max("version"))["last"] or 0
        if last and not reason.strip():
            raise ValidationError({"reason": f"say why version {last + 1} replaces version {last}"})
        report = _save(MajorIncidentReport(incident=incident, version=last + 1, summary=summary, timeline=timeline,
                                           impact=impact, root_cause=root_cause, actions=actions,
                                           reason=reason.strip(), author=actor, created_at=timezone.now()))
    return report


# --- service status, alerts, maintenance, outages --------------------------------------------

@transaction.atomic
def component_upsert(*, actor: User | None, key: str, name: str, item: Any, sort_order: int = 0,
                     description: str = "") -> ServiceComponent:
    """Create or update a service component by its key (``actor`` None: demo and setup loading)."""
    if actor is not None:
        require(actor, "servicedesk.servicecomponent.change")
    with set_actor(actor):
        component = ServiceComponent.objects.filter(key=key).first() or ServiceComponent(key=key)
        component.name, component.item = name, item
        component.sort_order, component.description = sort_order, description
        return _save(component)


@transaction.atomic
def component_set_status(*, actor: User | None, component: ServiceComponent, status: str,
                         reason: str = "") -> ServiceComponent:
    """Set a component's current status; the change is kept for its history strip."""
    if actor is not None:
        require(actor, "servicedesk.servicecomponent.change")
    if status not in ComponentStatus.values:
        raise ValidationError({"status": f"{status!r} is not a component status"})
    with set_actor(actor):
        component = ServiceComponent.objects.select_for_update().get(pk=component.pk)
        if component.status != status:
            _save(ComponentStatusChange(component=component, from_status=component.status, to_status=status,
                                        reason=reason[:300], actor=actor, changed_at=timezone.now()))
            component.status = status
            _save(component)
    return component


@transaction.atomic
def service_alert_publish(*, actor: User, title: str, description: str,
                          components: Iterable[ServiceComponent] = (), regions: Iterable[str] = (),
                          expected_resolution_at: dt.datetime | None = None, incident: Incident | None = None,
                          recipients: Iterable[User] = ()) -> ServiceAlert:
    """Publish a service alert for every user to read: every organisation's endpoints subscribed to
    service_alert.published hear it, and ``recipients`` are told (a major incident names everyone
    it affects)."""
    require(actor, "servicedesk.servicealert.add")
    with set_actor(actor):
        alert = ServiceAlert(title=title, description=description, regions=list(regions), incident=incident,
                             published_at=timezone.now(), expected_resolution_at=expected_resolution_at,
                             created_by=actor)
        alert.reference = _allocate("service_alert")
        _save(alert)
        alert.components.set(list(components))
    events.publish("service_alert.published", obj=alert, organisation=None, everyone=True, recipients=list(recipients),
                   summary=f"Service alert {alert.reference}: {alert.title}", body=alert.description,
                   url=alert.get_absolute_url(),
                   payload={"reference": alert.reference, "regions": alert.regions,
                            "components": sorted(c.key for c in alert.components.all()),
                            "expected_resolution_at": alert.expected_resolution_at})
    return alert


@transaction.atomic
def service_alert_update(*, actor: User, alert: ServiceAlert, text: str,
                         expected_resolution_at: dt.datetime | None = None) -> ServiceAlertUpdate:
    """A later word on an active alert, optionally with a new expected resolution."""
    require(actor, "servicedesk.servicealert.change")
    with set_actor(actor):
        alert = ServiceAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.closed_at is not None:
            raise ValidationError({"text": f"{alert.reference} is closed"})
        update = _save(ServiceAlertUpdate(alert=alert, text=text, expected_resolution_at=expected_resolution_at,
                                          author=actor, created_at=timezone.now()))
        if expected_resolution_at is not None:
            alert.expected_resolution_at = expected_resolution_at
            _save(alert)
    return update


@transaction.atomic
def service_alert_close(*, actor: User, alert: ServiceAlert, text: str = "") -> ServiceAlert:
    require(actor, "servicedesk.servicealert.change")
    with set_actor(actor):
        alert = ServiceAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.closed_at is not None:
            return alert
        now = timezone.now()
        if text:
            _save(ServiceAlertUpdate(alert=alert, text=text, author=actor, created_at=now))
        alert.closed_at = now
        _save(alert)
    return alert


@transaction.atomic
def maintenance_schedule(*, actor: User, title: str, description: str, start_at: dt.datetime, end_at: dt.datetime,
                         components: Iterable[ServiceComponent], regions: Iterable[str] = (),
                         short_notice_reason: str = "", now: dt.datetime | None = None) -> PlannedMaintenance:
    """Propose a maintenance window. Notice is the working days from today to its start (London
    dates); less than the policy's minimum needs a recorded reason."""
    require(actor, "servicedesk.plannedmaintenance.add")
    now = now or timezone.now()
    components = list(components)
    if not components:
        raise ValidationError({"components": "name the components the maintenance takes down"})
    if start_at <= now:
        raise ValidationError({"start_at": "planned maintenance starts in the future"})
    notice = calendar_uk.working_days_between(now.astimezone(clock.LONDON).date(),
                                              start_at.astimezone(clock.LONDON).date())
    minimum = DeskPolicy.current().maintenance_notice_working_days
    if notice < minimum and not short_notice_reason.strip():
        raise ValidationError({"short_notice_reason": f"{notice} working days' notice is less than the "
                                                      f"{minimum} required: record why"})
    with set_actor(actor):
        maintenance = PlannedMaintenance(title=title, description=description, start_at=start_at, end_at=end_at,
                                         regions=list(regions), scheduled_at=now, scheduled_by=actor,
                                         notice_working_days=notice, short_notice_reason=short_notice_reason.strip())
        maintenance.reference = _allocate("maintenance")
        _save(maintenance)
        maintenance.components.set(components)
    return maintenance


@transaction.atomic
def maintenance_approve(*, actor: User, maintenance: PlannedMaintenance) -> PlannedMaintenance:
    """A DCC administrator other than the one who scheduled it approves the window."""
    require(actor, "servicedesk.plannedmaintenance.approve")
    with set_actor(actor):
        maintenance = PlannedMaintenance.objects.select_for_update().get(pk=maintenance.pk)
        if maintenance.status != MaintenanceStatus.PROPOSED:
            raise ValidationError({"status": f"{maintenance.reference} is {maintenance.get_status_display().lower()}"})
        if maintenance.scheduled_by_id == actor.pk:
            raise PermissionDenied("Planned maintenance is approved by someone other than the person who scheduled it.")
        maintenance.status, maintenance.approved_by, maintenance.approved_at = (
            MaintenanceStatus.APPROVED, actor, timezone.now())
        _save(maintenance)
    return maintenance


@transaction.atomic
def maintenance_announce(*, actor: User, maintenance: PlannedMaintenance) -> PlannedMaintenance:
    """Announce approved maintenance to every user: as a service alert and the
    maintenance.scheduled event (the calendar feed reads announced windows)."""
    require(actor, "servicedesk.plannedmaintenance.change")
    with set_actor(actor):
        maintenance = PlannedMaintenance.objects.select_for_update().get(pk=maintenance.pk)
        if maintenance.status != MaintenanceStatus.APPROVED:
            raise ValidationError({"status": f"{maintenance.reference} must be approved before it is announced"})
        london = clock.LONDON
        window = (f"{maintenance.start_at.astimezone(london):%a %d %b %Y %H:%M} to "
                  f"{maintenance.end_at.astimezone(london):%a %d %b %Y %H:%M} (UK time)")
        alert = service_alert_publish(actor=actor, title=f"Planned maintenance: {maintenance.title}",
                                      description=f"{window}. {maintenance.description}",
                                      components=maintenance.components.all(), regions=maintenance.regions,
                                      expected_resolution_at=maintenance.end_at)
        maintenance.status, maintenance.alert = MaintenanceStatus.ANNOUNCED, alert
        _save(maintenance)
    events.publish("maintenance.scheduled", obj=maintenance, organisation=None, everyone=True,
                   summary=f"Planned maintenance {maintenance.reference}: {window}",
                   url=maintenance.get_absolute_url(),
                   payload={"reference": maintenance.reference, "start_at": maintenance.start_at,
                            "end_at": maintenance.end_at, "alert": alert.reference})
    return maintenance


@transaction.atomic
def maintenance_cancel(*, actor: User, maintenance: PlannedMaintenance, reason: str) -> PlannedMaintenance:
    require(actor, "servicedesk.plannedmaintenance.change")
    if not reason.strip():
        raise ValidationError({"reason": "say why the maintenance is cancelled"})
    with set_actor(actor):
        maintenance = PlannedMaintenance.objects.select_for_update().get(pk=maintenance.pk)
        if maintenance.status == MaintenanceStatus.CANCELLED:
            return maintenance
        if maintenance.alert is not None:
            service_alert_close(actor=actor, alert=maintenance.alert, text=f"Cancelled: {reason.strip()}")
        maintenance.status = MaintenanceStatus.CANCELLED
        _save(maintenance)
    return maintenance


@transaction.atomic
def outage_record(*, actor: User, component: ServiceComponent, started_at: dt.datetime,
                  ended_at: dt.datetime | None = None, incident: Incident | None = None,
                  description: str = "") -> Outage:
    """Record unplanned downtime of a component (open while ``ended_at`` is None)."""
    require(actor, "servicedesk.outage.add")
    with set_actor(actor):
        return _save(Outage(component=component, started_at=started_at, ended_at=ended_at, incident=incident,
                            description=description, recorded_by=actor))


@transaction.atomic
def outage_end(*, actor: User, outage: Outage, ended_at: dt.datetime) -> Outage:
    require(actor, "servicedesk.outage.change")
    with set_actor(actor):
        outage = Outage.objects.select_for_update().get(pk=outage.pk)
        outage.ended_at = ended_at
        return _save(outage)


# --- configuration and forecasts -------------------------------------------------------------

@transaction.atomic
def target_time_set(*, actor: User, category: int, response_minutes: int, resolution_minutes: int,
                    basis: str, note: str = "") -> TargetTime:
    """DCC administrators set a category's targets (the audit trail keeps each change); the
    due times of open incidents of that category follow."""
    require(actor, "servicedesk.targettime.change")
    category = _category(category, "category")
    if basis not in TargetBasis.values:
        raise ValidationError({"basis": f"{basis!r} is not one of {', '.join(TargetBasis.values)}"})
    now = timezone.now()
    with set_actor(actor):
        row = TargetTime.objects.select_for_update().filter(category=category).first() or TargetTime(category=category)
        row.response_minutes, row.resolution_minutes, row.basis = response_minutes, resolution_minutes, basis
        row.note, row.updated_by = note, actor
        _save(row)
        for incident in Incident.objects.select_for_update().filter(category=category, status__in=OPEN_STATUSES):
            _refresh_due(incident, now)
            incident.save(update_fields=["response_due_at", "resolution_due_at"])
    return row


@transaction.atomic
def policy_set(*, actor: User, **values: Any) -> DeskPolicy:
    """DCC administrators change the desk policy (audited)."""
    require(actor, "servicedesk.deskpolicy.change")
    allowed = {"auto_close_working_days", "major_report_working_days", "maintenance_notice_working_days",
               "attachment_max_bytes", "note"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"policy_set cannot change {', '.join(sorted(unknown))}")
    with set_actor(actor):
        policy = DeskPolicy.objects.select_for_update().filter(pk=1).first() or DeskPolicy(pk=1)
        for name, value in values.items():
            setattr(policy, name, value)
        return _save(policy)


@transaction.atomic
def forecast_set(*, actor: User, organisation: Organisation, month: dt.date, srv: Any, forecast: int) -> UsageForecast:
    """A service user's forecast of one SRV's requests in a month (entered by the user, or by
    DCC for it); setting it again replaces it (the audit trail keeps the old value)."""
    require(actor, "servicedesk.usageforecast.add", organisation=organisation)
    with set_actor(actor):
        row = (UsageForecast.objects.select_for_update().filter(organisation=organisation, month=month, srv=srv).first()
               or UsageForecast(organisation=organisation, month=month, srv=srv))
        row.forecast, row.updated_by = forecast, actor
        return _save(row)


# --- monthly self-service report deliveries --------------------------------------------------

def _counted(rows: Iterable[tuple], tally: list[int]) -> Iterable[tuple]:
    for row in rows:
        tally[0] += 1
        yield row


@transaction.atomic
def report_deliver(*, organisation: Organisation, kind: str, month: dt.date,
                   today: dt.date | None = None) -> SelfServiceReportDelivery:
    """Produce one monthly self-service report of ``organisation`` for ``month``, keep the file
    for download and e-mail it to the organisation's people (SEC H3.24: by the 10th working day
    after the month). Delivering the same report again does nothing."""
    from servicedesk import reports

    month = month.replace(day=1)
    today = today or timezone.localdate()
    following = (month + dt.timedelta(days=32)).replace(day=1)
    delivery, _ = SelfServiceReportDelivery.objects.select_for_update().get_or_create(
        organisation=organisation, kind=kind, month=month,
        defaults={"due_on": calendar_uk.nth_working_day(following.year, following.month, 10)})
    if delivery.state == DeliveryState.DELIVERED:
        return delivery
    report = reports.MONTHLY[ReportKind(kind)](reports.for_organisation(organisation), month)
    tally = [0]
    report.rows = _counted(report.rows, tally)
    content = report.csv()
    filename = f"{kind}_{organisation.code}_{month:%Y-%m}.csv"
    delivery.file.save(filename, ContentFile(content), save=False)
    people = [p for p in User.objects.filter(organisation=organisation, is_active=True) if p.is_service_user]
    events.publish("self_service_report.delivered", obj=delivery, organisation=organisation, recipients=people,
                   summary=f"{report.title} for {month:%B %Y}", body=f"{filename}: {tally[0]} rows.",
                   url=reverse("servicedesk:delivery_list"),
                   attachments=[(filename, content, "text/csv")],
                   payload={"kind": kind, "month": f"{month:%Y-%m}", "rows": tally[0]})
    delivery.rows, delivery.state, delivery.delivered_at = tally[0], DeliveryState.DELIVERED, timezone.now()
    delivery.emailed_to = sorted(p.email for p in people if p.email)
    delivery.error = "" if today <= delivery.due_on else f"delivered after its due date {delivery.due_on}"
    return _save(delivery)


def reports_deliver_month(*, month: dt.date, today: dt.date | None = None) -> int:
    """Deliver every monthly report of every active service user for ``month`` (each in its own
    transaction, so one organisation's failure does not hold back the others)."""
    delivered = 0
    for organisation in Organisation.objects.filter(kind=OrganisationKind.SERVICE_USER, is_active=True):
        for kind in MONTHLY_REPORTS:
            delivery = report_deliver(organisation=organisation, kind=kind, month=month, today=today)
            delivered += delivery.state == DeliveryState.DELIVERED
    return delivered

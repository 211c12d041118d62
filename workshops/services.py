"""Writes of the governance registers. Keyword-only arguments, full_clean() before save, one
transaction each, the audit trail's actor set; notifications through portal.events.publish."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.access import may, people
from portal.events import publish
from workshops import selectors
from workshops.choices import (
    ACTION_CLOSED,
    ACTION_LIVE,
    RAID_OPEN,
    ActionStatus,
    Announced,
    DistributionState,
    OutcomeKind,
    RaidStatus,
)
from workshops.models import (
    Action,
    ActionSequence,
    ActionUpdate,
    AgendaItem,
    AgendaOutcome,
    Comment,
    Consultation,
    Document,
    DocumentVersion,
    Meeting,
    MeetingSeries,
    Milestone,
    RaidItem,
    Topic,
)

if TYPE_CHECKING:
    from portal.models import Organisation, User
    from portal.types import Actor, ModelT, Viewer


def _save(obj: ModelT, *, actor: Actor, fields: Mapping[str, Any] | None = None,
          m2m: Mapping[str, Iterable[Any] | None] | None = None) -> ModelT:
    """Set ``fields``, validate, save and set many-to-many values, with the actor on the audit trail."""
    with set_actor(actor):
        for name, value in (fields or {}).items():
            setattr(obj, name, value)
        obj.full_clean()
        obj.save()
        for name, values in (m2m or {}).items():
            if values is not None:
                getattr(obj, name).set(list(values))
    return obj


def _split(fields: Mapping[str, Any], m2m_names: Collection[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    plain = {k: v for k, v in fields.items() if k not in m2m_names}
    m2m = {k: v for k, v in fields.items() if k in m2m_names}
    return plain, m2m


# --- Meetings ------------------------------------------------------------------------------

@transaction.atomic
def series_save(*, series: MeetingSeries | None = None, actor: Actor = None, **fields: Any) -> MeetingSeries:
    """Create (series=None) or update a meeting series."""
    return _save(series or MeetingSeries(), actor=actor, fields=fields)


MEETING_M2M = ("attendees", "organisations")


@transaction.atomic
def meeting_save(*, meeting: Meeting | None = None, actor: Actor = None, **fields: Any) -> Meeting:
    """Create (meeting=None) or update a meeting; a new meeting gets its action counter row."""
    plain, m2m = _split(fields, MEETING_M2M)
    creating = meeting is None
    meeting = _save(meeting or Meeting(), actor=actor, fields=plain, m2m=m2m)
    if creating:
        ActionSequence.objects.get_or_create(meeting=meeting)
    return meeting


AGENDA_M2M = ("presenters", "raid_items", "documents", "consultations")


@transaction.atomic
def agenda_item_save(*, item: AgendaItem | None = None, actor: Actor = None, **fields: Any) -> AgendaItem:
    """Create (item=None, give meeting) or update an agenda item; position defaults to the next free one."""
    plain, m2m = _split(fields, AGENDA_M2M)
    item = item or AgendaItem()
    if not item.pk and not plain.get("position"):
        meeting = plain["meeting"]
        plain["position"] = (meeting.agenda_items.order_by("-position").values_list("position", flat=True)
                             .first() or 0) + 1
    return _save(item, actor=actor, fields=plain, m2m=m2m)


@transaction.atomic
def agenda_outcome_add(*, agenda_item: AgendaItem, kind: str, text: str, actor: Actor = None) -> AgendaOutcome:
    """Record a decision or information against an agenda item (actions: use action_raise)."""
    if kind == OutcomeKind.ACTION:
        raise ValidationError({"kind": "Raise actions with action_raise so they get a reference."})
    return _save(AgendaOutcome(agenda_item=agenda_item, kind=kind, text=text), actor=actor)


# --- Actions -------------------------------------------------------------------------------

def _sequence_row(meeting: Meeting) -> ActionSequence:
    """The meeting's counter row, locked until the end of the transaction."""
    try:
        with transaction.atomic():
            ActionSequence.objects.get_or_create(meeting=meeting)
    except IntegrityError:
        pass  # another transaction created it first; it exists now
    return ActionSequence.objects.select_for_update().get(meeting=meeting)


def reference_for(meeting: Meeting, number: int) -> str:
    return f"{meeting.series.action_prefix}_{meeting.number}.{number:02d}"


def action_reference_allocate(*, meeting: Meeting) -> str:
    """Next reference of ``meeting`` (SDAG_6.01, SDAG_6.02, …). Must run inside the transaction
    that creates the action: the counter row stays locked until it commits, so concurrent
    allocations queue and never share or skip a number."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("action_reference_allocate must run inside a transaction")
    sequence = _sequence_row(meeting)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return reference_for(meeting, sequence.last)


def action_reference_claim(*, reference: str, meeting: Meeting) -> None:
    """An explicit reference (an imported SDAG_5.04) keeps the meeting's counter ahead of it."""
    try:
        number = int(reference.rsplit(".", 1)[1])
    except (IndexError, ValueError):
        return
    sequence = _sequence_row(meeting)
    if number > sequence.last:
        sequence.last = number
        sequence.save(update_fields=["last"])


def _notify_owners(action: Action, event: str, summary: str, *, actor: Actor = None) -> None:
    recipients = [o for o in action.owners.all() if o != actor]
    publish(event, obj=action, recipients=recipients, summary=summary, url=action.get_absolute_url())


@transaction.atomic
def action_raise(*, meeting: Meeting, title: str, actor: Actor, text: str = "", owners: Iterable[User] = (),
                 due: dt.date | None = None, agenda_item: AgendaItem | None = None, all_members: bool = False,
                 status: str = ActionStatus.OPEN) -> Action:
    """Raise an action at ``meeting`` (optionally from one of its agenda items): allocates the next
    reference, records an action outcome on the agenda item and tells the owners."""
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        raise ValidationError({"agenda_item": "The agenda item belongs to another meeting."})
    reference = action_reference_allocate(meeting=meeting)
    action = _save(
        Action(reference=reference, meeting=meeting, agenda_item=agenda_item, title=title, text=text, due=due,
               all_members=all_members, status=status),
        actor=actor, m2m={"owners": owners},
    )
    if agenda_item is not None:
        with set_actor(actor):
            AgendaOutcome.objects.create(agenda_item=agenda_item, kind=OutcomeKind.ACTION, text=title, action=action)
    _notify_owners(action, "action.raised", f"Action {reference} raised: {title}", actor=actor)
    return action


@transaction.atomic
def action_edit(*, action: Action, actor: Actor, **fields: Any) -> Action:
    """Change an action's title, text, owners, due date or "all members" flag (not its status or
    reference: status changes go through action_set_status so they are recorded)."""
    for forbidden in ("status", "reference"):
        if forbidden in fields:
            raise ValidationError({forbidden: f"The {forbidden} cannot be edited here."})
    plain, m2m = _split(fields, ("owners",))
    return _save(action, actor=actor, fields=plain, m2m=m2m)


@transaction.atomic
def action_update(*, action: Action, text: str, actor: Actor, date: dt.date | None = None) -> ActionUpdate:
    """Append a dated update to an action's history."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "An update needs some text."})
    update = _save(ActionUpdate(action=action, text=text, date=date or timezone.localdate(), author=actor),
                   actor=actor)
    with set_actor(actor):
        Action.objects.filter(pk=action.pk).update(updated_at=timezone.now())
    return update


@transaction.atomic
def action_set_status(*, action: Action, status: str, actor: Actor, note: str = "",
                      date: dt.date | None = None) -> Action:
    """Move an action to ``status``; the change (and any reopening) is recorded as an update."""
    if status not in ActionStatus.values:
        raise ValidationError({"status": f"Unknown status {status!r}; use one of {', '.join(ActionStatus.values)}."})
    action = Action.objects.select_for_update().get(pk=action.pk)
    if action.status == status:
        return action
    before = action.status
    reopening = before in ACTION_CLOSED and status in ACTION_LIVE
    label = dict(ActionStatus.choices)
    text = ("Reopened" if reopening else "Status") + f": {label[before]} → {label[status]}"
    if note:
        text += f". {note}"
    fields: dict[str, Any] = {"status": status}
    if reopening:
        fields["reopened_count"] = action.reopened_count + 1
    _save(action, actor=actor, fields=fields)
    _save(ActionUpdate(action=action, date=date or timezone.localdate(), text=text, author=actor,
                       status_from=before, status_to=status), actor=actor)
    _notify_owners(action, "action.status_changed", f"Action {action.reference}: {text}", actor=actor)
    return action


# --- RAID log ------------------------------------------------------------------------------

@transaction.atomic
def topic_save(*, topic: Topic | None = None, actor: Actor = None, **fields: Any) -> Topic:
    return _save(topic or Topic(), actor=actor, fields=fields)


def topic_get_or_create(*, name: str, actor: Actor = None) -> Topic:
    topic = Topic.objects.filter(name__iexact=name).first()
    return topic or topic_save(name=name, actor=actor)


RAID_M2M = ("actions", "documents")


@transaction.atomic
def raid_save(*, item: RaidItem | None = None, actor: Actor = None, **fields: Any) -> RaidItem:
    """Create (item=None) or edit a RAID item. Status moves only through raid_close/confirm/reject."""
    if "status" in fields:
        raise ValidationError({"status": "Close, confirm or reject the item to change its status."})
    plain, m2m = _split(fields, RAID_M2M)
    return _save(item or RaidItem(), actor=actor, fields=plain, m2m=m2m)


def _raid_notify(item: RaidItem, event: str, summary: str, body: str = "") -> None:
    # Only people who may open the item are told (publish checks again): a link they could not
    # open would be no use, and the item's title is not theirs to read.
    recipients = {p.pk: p for p in selectors.originator_listeners(item)}
    if item.owner is not None:
        recipients[item.owner.pk] = item.owner
    publish(event, obj=item, organisation=item.originator, recipients=list(recipients.values()),
            summary=summary, body=body, url=item.get_absolute_url())


def can_answer_for_originator(user: Viewer, item: RaidItem) -> bool:
    """The originator's people (SDAG members of that organisation), or DCC staff on their behalf."""
    return may(user, "workshops.raiditem.answer", item)


@transaction.atomic
def raid_close(*, item: RaidItem, resolution: str, actor: Actor) -> RaidItem:
    """Propose closing an item: it waits for its originator to confirm the answer closes it."""
    item = RaidItem.objects.select_for_update().get(pk=item.pk)
    if item.status not in RAID_OPEN:
        raise ValidationError({"status": f"Only an open item can be closed; this one is {item.get_status_display()}."})
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": "Say how the item was resolved before closing it."})
    _save(item, actor=actor, fields={"status": RaidStatus.CLOSED_AWAITING_ORIGINATOR, "resolution": resolution,
                                     "closure_requested_at": timezone.now()})
    _raid_notify(item, "raid.closure_requested", f"{item.reference} closed: please confirm ({item.title})",
                 body=f"Resolution: {resolution}\n\nConfirm that this answer closes the item, or reject it with a "
                      f"reason.")
    return item


def _awaiting(item: RaidItem, actor: Actor) -> RaidItem:
    item = RaidItem.objects.select_for_update().get(pk=item.pk)
    if item.status != RaidStatus.CLOSED_AWAITING_ORIGINATOR:
        raise ValidationError({"status": "The item is not waiting for its originator's confirmation."})
    if not can_answer_for_originator(actor, item):
        raise PermissionDenied(f"Only people of {item.originator.name} (or DCC) may answer for the originator.")
    return item


@transaction.atomic
def raid_confirm(*, item: RaidItem, actor: Actor) -> RaidItem:
    """The originator confirms the resolution: the item is closed."""
    item = _awaiting(item, actor)
    _save(item, actor=actor, fields={"status": RaidStatus.CLOSED, "closed_at": timezone.now(),
                                     "rejection_reason": ""})
    _raid_notify(item, "raid.confirmed", f"{item.reference} closure confirmed by {item.originator.code}")
    return item


@transaction.atomic
def raid_reject(*, item: RaidItem, reason: str, actor: Actor) -> RaidItem:
    """The originator rejects the resolution with a reason: the item is re-opened."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason the answer does not close the item."})
    item = _awaiting(item, actor)
    _save(item, actor=actor, fields={"status": RaidStatus.REOPENED, "rejection_reason": reason,
                                     "closure_requested_at": None})
    _raid_notify(item, "raid.rejected", f"{item.reference} re-opened by {item.originator.code}",
                 body=f"Reason: {reason}")
    return item


# --- Documents, versions, milestones -------------------------------------------------------

@transaction.atomic
def document_save(*, document: Document | None = None, actor: Actor = None, **fields: Any) -> Document:
    return _save(document or Document(), actor=actor, fields=fields)


@transaction.atomic
def milestone_save(*, milestone: Milestone | None = None, actor: Actor = None, **fields: Any) -> Milestone:
    return _save(milestone or Milestone(), actor=actor, fields=fields)


def _check_gate(version: DocumentVersion, state: str) -> None:
    gate = version.gating_milestone
    if state == DistributionState.CIRCULATED and gate is not None and not gate.achieved:
        raise ValidationError({"state": f"{version} cannot be circulated before the milestone "
                                        f"'{gate.name}' is achieved."})


@transaction.atomic
def version_save(*, document_version: DocumentVersion | None = None, actor: Actor = None,
                 **fields: Any) -> DocumentVersion:
    """Create (document_version=None, give document) or edit a document version; the document's
    current version follows the latest issued one. Circulation waits for the gating milestone."""
    version = document_version or DocumentVersion()
    for name, value in fields.items():
        setattr(version, name, value)
    _check_gate(version, version.state)
    _save(version, actor=actor)
    _refresh_current_version(version.document, actor)
    return version


def _refresh_current_version(document: Document, actor: Actor) -> None:
    latest = (document.versions.exclude(actual_issue=None).order_by("-actual_issue", "-pk").first()
              or document.versions.order_by("-pk").first())
    if latest and document.current_version != latest.version:
        _save(document, actor=actor, fields={"current_version": latest.version})


@transaction.atomic
def version_set_state(*, document_version: DocumentVersion, state: str, actor: Actor) -> DocumentVersion:
    return version_save(document_version=document_version, state=state, actor=actor)


# --- Consultations and comments ------------------------------------------------------------

@transaction.atomic
def consultation_save(*, consultation: Consultation | None = None, actor: Actor = None, **fields: Any) -> Consultation:
    created = consultation is None
    consultation = _save(consultation or Consultation(), actor=actor, fields=fields)
    if created and consultation.closes < today_london():
        # Recording one that already closed (history) is not news: nothing to announce.
        Consultation.objects.filter(pk=consultation.pk).update(announced=Announced.CLOSED)
        consultation.announced = Announced.CLOSED
    else:
        # Created already open, or dates moved so that it opens or closes now: say so at once.
        consultation_announce(consultation=consultation)
    return consultation


def _consultation_state(consultation: Consultation, today: dt.date) -> Announced:
    if consultation.closes < today:
        return Announced.CLOSED
    return Announced.OPENED if consultation.opens <= today else Announced.NOTHING


@transaction.atomic
def consultation_announce(*, consultation: Consultation, today: dt.date | None = None) -> str | None:
    """Publish consultation.opened or consultation.closed (DCC's own event: organisation None)
    when the consultation's state on ``today`` (London) differs from what was last announced.
    Idempotent: the row is locked and the announced state recorded in the same transaction, so
    a second run, or two workers at once, announce nothing more. Returns the event or None."""
    today = today or today_london()
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    state = _consultation_state(consultation, today)
    if state == consultation.announced:
        return None
    Consultation.objects.filter(pk=consultation.pk).update(announced=state)
    if not state:
        # Its dates moved into the future: it will be announced again when it opens.
        return None
    event = f"consultation.{state.value}"
    if state == Announced.OPENED:
        summary = f"Consultation opened: {consultation.title} (comments until {consultation.closes:%d %b %Y})"
    else:
        summary = f"Consultation closed: {consultation.title} (closed on {consultation.closes:%d %b %Y})"
    publish(event, obj=consultation, organisation=None, summary=summary, url=consultation.get_absolute_url(),
            payload={"title": consultation.title, "opens": consultation.opens.isoformat(),
                     "closes": consultation.closes.isoformat(), "comments": consultation.comments.count()})
    return event


@transaction.atomic
def action_overdue_announce(*, action: Action, today: dt.date | None = None) -> bool:
    """Publish action.overdue once for an action's due date (to its owners, its watchers and
    webhooks). A new due date that passes is announced again. Returns True when announced."""
    today = today or today_london()
    action = Action.objects.select_for_update().get(pk=action.pk)
    if not (action.status in ACTION_LIVE and action.due and action.due < today) \
            or action.overdue_announced_for == action.due:
        return False
    Action.objects.filter(pk=action.pk).update(overdue_announced_for=action.due)
    recipients = list(action.owners.filter(is_active=True))
    if action.all_members:
        recipients += list(people("sdag_member"))
    days = (today - action.due).days
    ago = f"{days} day{'s' if days != 1 else ''} ago"
    publish("action.overdue", obj=action, organisation=None, recipients=recipients,
            summary=f"Action {action.reference} is overdue: due {action.due:%d %b %Y} ({ago})",
            body=f"{action.reference} {action.title}\nStatus: {action.get_status_display()}",
            url=action.get_absolute_url(),
            payload={"reference": action.reference, "title": action.title, "due": action.due.isoformat(),
                     "status": action.status, "owners": [u.username for u in action.owners.all()]})
    return True


def can_comment(user: Viewer, consultation: Consultation, today: dt.date | None = None) -> bool:
    return may(user, "workshops.comment.add", consultation) and consultation.is_open(today)


@transaction.atomic
def comment_add(*, consultation: Consultation, theme: str, text: str, actor: User,
                organisation: Organisation | None = None, section: str = "", today: dt.date | None = None) -> Comment:
    """An SDAG member (for their organisation) or DCC staff (for any) comments while the
    consultation is open; after it closes nobody can."""
    today = today or timezone.localdate()
    if not may(actor, "workshops.comment.add"):
        raise PermissionDenied("Only SDAG members and DCC staff may comment.")
    if not consultation.is_open(today):
        when = "has not opened yet" if today < consultation.opens else f"closed on {consultation.closes:%d %b %Y}"
        raise ValidationError({"consultation": f"The consultation {when}: comments are not accepted."})
    if not may(actor, "workshops.comment.add_for_any_organisation"):
        organisation = actor.organisation  # members speak for their own organisation only
    if organisation is None:
        raise ValidationError({"organisation": "Say which organisation the comment comes from."})
    return _save(Comment(consultation=consultation, organisation=organisation, author=actor, theme=theme.strip(),
                         section=section, text=text), actor=actor)


@transaction.atomic
def comment_respond(*, comment: Comment, response: str, disposition: str, actor: Actor) -> Comment:
    """DCC's answer to a comment and its disposition."""
    return _save(comment, actor=actor, fields={"response": response, "disposition": disposition})


def comment_add_bulk_for_demo(*, consultation: Consultation, rows: Iterable[Mapping[str, Any]],
                              actor: Actor = None) -> None:
    """Load many historical comments at once (demo data only: the consultation may be closed)."""
    with transaction.atomic(), set_actor(actor):
        objects = []
        for row in rows:
            comment = Comment(consultation=consultation, **row)
            comment.full_clean()
            objects.append(comment)
        Comment.objects.bulk_create(objects)


def today_london() -> dt.date:
    return timezone.localdate()


def parse_date_or_tbc(value: str | None, *, field: str = "due") -> dt.date | None:
    """``DD.MM.YY``, ``DD/MM/YYYY``, ISO ``YYYY-MM-DD`` or ``tbc``/empty (None)."""
    text = (value or "").strip()
    if text.lower() in ("", "tbc", "tba"):
        return None
    if "T" in text and text[:4].isdigit():
        text = text.split("T", 1)[0]  # an XLSX date cell arrives as an ISO timestamp
    for fmt in ("%d.%m.%y", "%d.%m.%Y", "%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError({field: f"{field}: {value!r} is not a date (use DD.MM.YY, DD/MM/YYYY, YYYY-MM-DD or tbc)"})

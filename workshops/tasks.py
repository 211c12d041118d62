"""Background work of the governance registers (django-q2; schedules in workshops/schedules.py)."""
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from portal.events import publish
from workshops import selectors, services
from workshops.choices import Announced
from workshops.models import Action, Consultation


def action_digest_send(today=None):
    """E-mail every owner of open or ongoing actions the list of them, overdue ones first.
    Returns the number of people written to."""
    today = today or timezone.localdate()
    sent = 0
    for owner, live, overdue in selectors.digest_recipients(today):
        lines = [f"Your open actions on {today:%d %b %Y}: {len(live)}, of which {len(overdue)} overdue.", ""]
        if overdue:
            lines.append("OVERDUE")
            lines += [f"  {a.reference} {a.title} (due {a.due_display}, {a.get_status_display()})" for a in overdue]
            lines.append("")
        current = [a for a in live if a not in overdue]
        if current:
            lines.append("OPEN")
            lines += [f"  {a.reference} {a.title} (due {a.due_display}, {a.get_status_display()})" for a in current]
        publish("action.digest", recipients=[owner], summary=f"Your actions: {len(live)} open, {len(overdue)} overdue",
                body="\n".join(lines), url=reverse("workshops:action_mine"))
        sent += 1
    return sent


def consultation_events(today=None):
    """Daily, just after midnight London: announce consultations that opened or closed since the
    last run (consultation.opened / consultation.closed). The announced state is recorded on each
    consultation, so running twice announces nothing twice. Returns the events published."""
    today = today or timezone.localdate()
    due = Consultation.objects.filter(
        Q(opens__lte=today, closes__gte=today) & ~Q(announced=Announced.OPENED)
        | Q(closes__lt=today) & ~Q(announced=Announced.CLOSED)
        | Q(opens__gt=today) & ~Q(announced=Announced.NOTHING))
    events = []
    for consultation in due.order_by("pk"):
        event = services.consultation_announce(consultation=consultation, today=today)
        if event:
            events.append((event, consultation.pk))
    return events


def actions_overdue_announce(today=None):
    """Daily: announce each open or ongoing action whose due date has passed, once per due date
    (action.overdue). Returns how many were announced."""
    today = today or timezone.localdate()
    candidates = (Action.objects.overdue(today)
                  .filter(Q(overdue_announced_for__isnull=True) | ~Q(overdue_announced_for=F("due"))))
    return sum(services.action_overdue_announce(action=action, today=today) for action in candidates.order_by("pk"))

"""Background work of the governance registers (django-q2; schedules in portal/schedules.py)."""
from django.urls import reverse
from django.utils import timezone

from portal.events import publish
from workshops import selectors


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

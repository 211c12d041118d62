"""One door for "something happened that people should hear about".

Apps call ``publish(...)`` from their services; portal decides who hears: people named as
recipients, people watching the object, and webhook endpoints subscribed to the event for the
organisation concerned (DCC's endpoints hear every organisation's events). Event names
(webhooks subscribe to them): request.failed, alert.received, request.quarantined,
action.overdue, statement.issued, consultation.opened, consultation.closed,
raid.closure_requested, raid.confirmed, raid.rejected, and others apps add.

Everything is written in the caller's transaction; webhook attempts start after it commits.
"""
import logging

from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)


def _object_ref(obj):
    if obj is None or getattr(obj, "pk", None) is None:
        return None
    return {"type": obj._meta.label_lower, "id": str(obj.pk), "name": str(obj)}


def publish(event, *, obj=None, organisation=None, recipients=(), summary, body="", url="", payload=None,
            attachments=()):
    """Announce ``event`` about ``obj``. ``recipients`` are users told directly; ``organisation`` is
    whose event it is (None: DCC's own). ``attachments``: [(filename, bytes, mimetype)].
    Returns the number of e-mails sent at once."""
    # Imported here: apps import this module from their services while models are loading.
    from portal.notifications import services as notifications
    from portal.webhooks import services as webhooks

    people, seen = [], set()
    for user in list(recipients) + (notifications.watchers_of(obj) if _object_ref(obj) else []):
        if user.pk not in seen:
            seen.add(user.pk)
            people.append(user)
    sent = notifications.notify(users=people, event=event, summary=summary, body=body, url=url, obj=obj,
                                attachments=attachments)
    envelope = {
        "event": event,
        "occurred_at": timezone.now(),
        "organisation": getattr(organisation, "code", None),
        "summary": summary,
        "url": f"{settings.SITE_URL}{url}" if url else "",
        "object": _object_ref(obj),
        "data": payload or {},
    }
    deliveries = webhooks.deliveries_create(event=event, payload=envelope, organisation=organisation)
    log.info("event %s: %s (%d told, %d e-mails, %d webhooks)", event, summary, len(people), sent, len(deliveries))
    return sent

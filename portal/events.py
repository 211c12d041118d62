"""One door for "something happened that people should hear about".

Apps call ``publish(...)`` from their services; portal decides who hears: people named as
recipients, people watching the object, and webhook endpoints subscribed to the event for the
organisation concerned (DCC's endpoints hear every organisation's events). Every one of them is
checked against the object at the time of publishing: a person is told only if they may open it
(``portal.access.may_open``), an organisation's endpoints hear it only if its people may
(``organisation_may_open``); the others are left out silently.

Every event name is registered by the app that publishes it (``<app>/events.py`` with
``portal.registry.register_event``); the registry says which ones webhooks may subscribe to.
An unregistered name is refused: it raises in DEBUG and in the tests (settings.STRICT_EVENTS),
and is logged as an error and not published otherwise.

Everything is written in the caller's transaction; webhook attempts start after it commits.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from portal.access import may_open, organisation_may_open
from portal.registry import EVENTS

if TYPE_CHECKING:
    from django.db import models

    from portal.models import Organisation, User

log = logging.getLogger(__name__)


def _object_ref(obj: models.Model | None) -> dict[str, str] | None:
    if obj is None or getattr(obj, "pk", None) is None:
        return None
    return {"type": obj._meta.label_lower, "id": str(obj.pk), "name": str(obj)}


def publish(event: str, *, obj: models.Model | None = None, organisation: Organisation | None = None,
            recipients: Iterable[User] = (), summary: str, body: str = "", url: str = "",
            payload: Mapping[str, Any] | None = None, attachments: Sequence[tuple[str, bytes, str]] = (),
            parties: Iterable[Organisation] = (), everyone: bool = False) -> int:
    """Announce ``event`` about ``obj``. ``recipients`` are users told directly; ``organisation`` is
    whose event it is (None: DCC's own); ``parties`` are other organisations that may see ``obj``
    (their webhooks hear it too); ``everyone``: every organisation may read it (a service alert).
    ``attachments``: [(filename, bytes, mimetype)].
    Returns the number of e-mails sent at once."""
    if event not in EVENTS:
        # A typo or an event nobody declared: subscribers could never ask for it by name.
        if getattr(settings, "STRICT_EVENTS", settings.DEBUG):
            raise ImproperlyConfigured(f"event {event!r} is not registered: add it to its app's events.py")
        log.error("event %s is not registered; not published: %s", event, summary)
        return 0
    # Imported here: apps import this module from their services while models are loading.
    from portal.notifications import services as notifications
    from portal.webhooks import services as webhooks

    about = obj if obj is not None and _object_ref(obj) else None
    if not url and about is not None and hasattr(about, "get_absolute_url"):
        url = about.get_absolute_url()  # a notification about an object links to it (its people may open it)
    people, seen = [], set()
    for user in list(recipients) + (notifications.watchers_of(about) if about is not None else []):
        if user.pk in seen:
            continue
        seen.add(user.pk)
        # Named is not enough: a person hears about an object only if they may open it now (an
        # action's owner from outside the governance audience gets nothing, not even the title).
        if about is not None and not may_open(user, about):
            log.info("event %s: %s may not open %s; not told", event, user, about._meta.label_lower)
            continue
        people.append(user)
    heard_by = organisation  # whose endpoints hear it (DCC's always do)
    if about is not None and not everyone:
        # Webhooks likewise: an organisation hears about an object only if its people may open it.
        # Its own event (organisation=...) included: a RAID item an organisation raised is governance
        # text its service-user staff, who read its deliveries, may not open.
        if organisation is not None and not organisation_may_open(organisation, about):
            heard_by = None
        parties = [party for party in parties if organisation_may_open(party, about)]
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
    if getattr(settings, "VALIDATE_EVENT_PAYLOADS", False):
        # The tests check every publish against the schema integrators are given (/api/schema/).
        from portal import eventschema

        eventschema.validate(event, json.loads(json.dumps(envelope, cls=DjangoJSONEncoder)))
    deliveries = webhooks.deliveries_create(event=event, payload=envelope, organisation=heard_by,
                                            parties=parties, everyone=everyone)
    log.info("event %s: %s (%d told, %d e-mails, %d webhooks)", event, summary, len(people), sent, len(deliveries))
    return sent

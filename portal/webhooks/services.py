"""Webhooks: endpoints registered by organisations, signed deliveries, retries and resends.

A delivery's body is fixed when the event is published; every attempt sends the same bytes
with a fresh timestamp. Receivers check

    X-DCC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of f"{t}.{body}" keyed by the secret>

and refuse old timestamps (``verify_signature`` below is the reference check). Attempts run as
django-q2 tasks; a failed attempt sets ``next_attempt_at`` with exponential back-off and the
minutely schedule ``deliveries_retry_due`` picks it up, so a lost task never loses a delivery.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Collection, Iterable, Mapping
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.choices import OrganisationKind
from portal.registry import webhook_event_choices
from portal.scoping import can_create
from portal.webhooks import outbound
from portal.webhooks.choices import DeliveryStatus
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from portal.webhooks.urlguard import validate_endpoint_url
from portal.writes import save_validated

if TYPE_CHECKING:
    from portal.models import Organisation, User
    from portal.types import Actor

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-DCC-Signature"
EVENT_HEADER = "X-DCC-Event"
DELIVERY_HEADER = "X-DCC-Delivery"
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=1)  # 1, 2, 4, 8, 16 minutes between the six attempts
# While an attempt is in flight its due time is pushed this far out, so the sweep does not
# pick the same delivery up twice (longer than outbound's connect, read and body deadlines).
IN_FLIGHT_LEASE = timedelta(seconds=60)


def sign(secret: str, timestamp: int, body: str) -> str:
    """The signature header value for ``body`` (str) sent at ``timestamp`` (int seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: str, *, tolerance: float = 300, now: float | None = None) -> bool:
    """What a receiver does: True when ``header`` signs ``body`` with ``secret`` within
    ``tolerance`` seconds (old signatures are refused so a captured request cannot be replayed)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError, AttributeError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt."""
    return BACKOFF_BASE * (2 ** (attempts - 1))


def endpoints_for(event: str, organisation: Organisation | None, *, parties: Iterable[Organisation] = (),
                  everyone: bool = False) -> list[WebhookEndpoint]:
    """Active endpoints that hear ``event`` about ``organisation``: that organisation's own, those of
    the ``parties`` that may also see the object (an incident's interested parties), and DCC's
    (which hear every organisation's events). ``everyone``: what every organisation may read (a
    service alert), heard by every endpoint subscribed to it."""
    candidates = WebhookEndpoint.objects.filter(is_active=True).select_related("organisation")
    if not everyone:
        hears = Q(organisation__kind=OrganisationKind.DCC)
        owners = [org.pk for org in (organisation, *parties) if org is not None]
        if owners:
            hears |= Q(organisation__in=owners)
        candidates = candidates.filter(hears)
    # Subscriptions are a short JSON list; matching in Python works the same on every database.
    return [endpoint for endpoint in candidates if event in endpoint.events or "*" in endpoint.events]


# The django-q2 queue of webhook deliveries (Q_CLUSTER["ALT_CLUSTERS"]): a qcluster started with
# Q_CLUSTER_NAME=hooks works it and nothing else, so receivers that answer slowly (each attempt is
# bounded by WEBHOOK_CONNECT_TIMEOUT and WEBHOOK_READ_TIMEOUT) hold only its workers, never the main
# cluster's, which check and send batches. Without that cluster running, deliveries wait queued.
HOOKS_CLUSTER = "hooks"


def _enqueue(delivery_pk: int) -> None:
    from django_q.tasks import async_task

    async_task("portal.webhooks.services.delivery_attempt", delivery_pk, task_name=f"webhook delivery {delivery_pk}",
               group="webhooks", cluster=HOOKS_CLUSTER)


def deliveries_create(*, event: str, payload: Mapping[str, Any], organisation: Organisation | None,
                      parties: Iterable[Organisation] = (), everyone: bool = False) -> list[WebhookDelivery]:
    """Record one delivery per subscribed endpoint and send each once the caller's transaction
    commits (a rolled-back event is never announced)."""
    deliveries = []
    body = json.dumps(payload, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))
    payload = json.loads(body)  # what the receiver will read (dates as ISO text)
    for endpoint in endpoints_for(event, organisation, parties=parties, everyone=everyone):
        delivery = WebhookDelivery(endpoint=endpoint, event=event, payload=payload, body=body,
                                   next_attempt_at=timezone.now())
        delivery.full_clean()
        delivery.save()
        deliveries.append(delivery)
        transaction.on_commit(partial(_enqueue, delivery.pk))
    return deliveries


def delivery_attempt(delivery_pk: int) -> str | None:
    """One attempt at one delivery (a django-q2 task). Claims the delivery first, so two
    workers never send it twice at once; records the outcome and schedules the next attempt."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING], next_attempt_at__lte=now,
    ).update(next_attempt_at=now + IN_FLIGHT_LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_pk)
    endpoint = delivery.endpoint
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "DCC-portal-webhooks/1",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, delivery.body),
    }
    # outbound refuses any destination that is not public (urlguard), checked on the addresses
    # the name resolves to now: the URL was checked when saved, but DNS may have changed since.
    outcome = outbound.post(endpoint.url, delivery.body.encode(), headers,
                            allow_loopback=settings.WEBHOOK_ALLOW_LOOPBACK)
    error = outcome.error
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.response_code = outcome.code
    delivery.response_excerpt = outcome.excerpt
    delivery.error = error
    if not error:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = delivery.last_attempt_at
        delivery.next_attempt_at = None
    elif outcome.refused:
        # A refused destination is not a passing fault: no retries (a resend by hand sends it
        # again once the URL or its DNS is fixed).
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS or not endpoint.is_active:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        delivery.error = f"{error} (gave up after {delivery.attempts} attempts)"[:300]
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = delivery.last_attempt_at + backoff(delivery.attempts)
    delivery.save()
    log.info("webhook %s to %s: %s %s", delivery.event, endpoint.url, delivery.status, error)
    return delivery.status


def deliveries_retry_due() -> int:
    """Minutely schedule: hand every delivery whose next attempt is due to a worker."""
    due = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING], next_attempt_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:500]
    pks = list(due)
    for pk in pks:
        _enqueue(pk)
    return len(pks)


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send a recorded delivery again, by hand: a new delivery with the same event and body
    (the original keeps its history)."""
    with set_actor(actor):
        copy = WebhookDelivery(endpoint=delivery.endpoint, event=delivery.event, payload=delivery.payload,
                               body=delivery.body, resent_from=delivery, next_attempt_at=timezone.now())
        copy.full_clean()
        copy.save()
    transaction.on_commit(lambda: _enqueue(copy.pk))
    return copy


def _check_events(events: Collection[str]) -> None:
    # The events offered to webhooks are those their apps registered as such (portal.registry).
    unknown = sorted(set(events) - {name for name, _ in webhook_event_choices()} - {"*"})
    if unknown:
        raise ValidationError({"events": f"Unknown event(s): {', '.join(unknown)}"})
    if not events:
        raise ValidationError({"events": "Subscribe to at least one event."})


@transaction.atomic
def endpoint_save(*, actor: User, organisation: Organisation, name: str, url: str, events: Iterable[str],
                  is_active: bool = True, endpoint: WebhookEndpoint | None = None) -> WebhookEndpoint:
    """Create or change an endpoint. A service user registers endpoints for their own
    organisation only; DCC staff register DCC's (which hear every organisation's events)."""
    if not can_create(actor, WebhookEndpoint, organisation):
        raise PermissionDenied("You may register endpoints for your own organisation only.")
    if endpoint is not None and endpoint.organisation_id != organisation.pk:
        raise PermissionDenied("An endpoint cannot move to another organisation.")
    events = sorted(set(events))
    _check_events(events)
    try:
        # Public http(s) endpoints only (urlguard); delivery checks again.
        validate_endpoint_url(url)
    except ValidationError as error:
        raise ValidationError({"url": error.messages}) from None
    with set_actor(actor):
        return save_validated(endpoint or WebhookEndpoint(organisation=organisation, created_by=actor), name=name,
                              url=url, events=events, is_active=is_active)


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookEndpoint:
    with set_actor(actor):
        endpoint.secret = WebhookEndpoint._meta.get_field("secret").default()
        endpoint.save(update_fields=["secret"])
    return endpoint

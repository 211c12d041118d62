"""Dashboard tiles of device commands: requests in flight by state, quarantined requests awaiting
DCC's decision, and alerts raised in the last hour (by the alert's own time, not when the portal
stored it). Grouped counts on indexed columns, so the query count does not depend on the data
size. Registered in AdapterConfig.ready()."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count
from django.urls import reverse

from adapter.choices import TERMINAL, RequestState
from adapter.models import ServiceRequest
from adapter.selectors import alerts_raised_since
from portal.access import DCC, OPERATIONS
from portal.registry import Tile, register_tile
from portal.scoping import scope

if TYPE_CHECKING:
    from portal.types import Viewer


def requests_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    live = scope(user, ServiceRequest.objects.exclude(state__in=TERMINAL))
    counts = dict(live.values_list("state").annotate(n=Count("pk")).order_by())
    states = [(state, counts.get(state.value, 0)) for state in RequestState if state not in TERMINAL]
    return {"states": states, "list_url": reverse("adapter:request_list")}


def quarantined_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    waiting = scope(user, ServiceRequest.objects.filter(state=RequestState.QUARANTINED))
    latest = list(waiting.select_related("srv", "organisation").order_by("-received_at")[:5])
    return {"count": waiting.count(), "latest": latest, "list_url": reverse("adapter:request_list")}


def alerts_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    recent = alerts_raised_since(user, now - dt.timedelta(hours=1))
    rows = list(recent.values("alert_code").annotate(n=Count("pk")).order_by("-n")[:5])
    return {"count": recent.count(), "rows": rows, "list_url": reverse("adapter:alert_list")}


# Weights place these among slas's and workshops' tiles (see slas/tiles.py).
register_tile(Tile("requests", "Requests in flight", DCC, requests_context, "adapter/partials/tile_requests.html",
                   weight=30))
register_tile(Tile("quarantined", "Quarantined, awaiting a decision", OPERATIONS, quarantined_context,
                   "adapter/partials/tile_quarantined.html", weight=40))
register_tile(Tile("alerts", "Alerts in the last hour", DCC, alerts_context, "adapter/partials/tile_alerts.html",
                   weight=60))

"""Search providers of device commands: service requests by request id and alerts by alert id
(exact keys, unique per originator). Registered in AdapterConfig.ready()."""
from __future__ import annotations

from typing import TYPE_CHECKING

from adapter.models import Alert, ServiceRequest
from portal.registry import SearchProvider, register_search
from portal.scoping import scope
from portal.search import PER_KIND, Result, result_url

if TYPE_CHECKING:
    from portal.types import Viewer


def requests(user: Viewer, query: str) -> list[Result]:
    # A request id always holds the originator's prefix and a colon: anything else is not one.
    if ":" not in query:
        return []
    found = scope(user, ServiceRequest.objects.filter(request_id=query.strip())
                  .select_related("srv", "organisation"))[:PER_KIND]
    return [Result(r.request_id, f"SRV {r.srv.code} · {r.get_state_display()} {r.outcome} · {r.organisation.code}",
                   result_url(r, "adapter:request_detail", r.pk)) for r in found]


def alerts(user: Viewer, query: str) -> list[Result]:
    found = scope(user, Alert.objects.filter(alert_id=query.strip()))[:PER_KIND]
    return [Result(a.alert_id, f"{a.alert_code} {a.description}", result_url(a, "adapter:alert_detail", a.pk))
            for a in found]


# Key kinds after devices (inventory's weight 10).
register_search(SearchProvider("request", "Service requests", requests, key=True, weight=20))
register_search(SearchProvider("alert", "Alerts", alerts, key=True, weight=30))

"""Dashboard tiles of the service desk: for DCC, the open incidents by category with those past
a due time; for a service user, its open incidents, those awaiting its answer first; for
everyone, the service status (components not operational, active alerts, the next announced
maintenance). Each tile is a fixed number of queries whatever the size of the log. Registered
in ServicedeskConfig.ready()."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q
from django.urls import reverse

from portal.access import DCC, EVERYONE
from portal.registry import Tile, register_tile
from portal.scoping import scope
from servicedesk.choices import OPEN_STATUSES, ComponentStatus, IncidentCategory, IncidentStatus, MaintenanceStatus
from servicedesk.filtersets import breached_q
from servicedesk.models import Incident, PlannedMaintenance, ServiceAlert, ServiceComponent

if TYPE_CHECKING:
    from portal.types import Viewer

ROWS = 8


def open_by_category_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """Open incidents per category, with how many are past a due time and how many await the
    user (one grouped query)."""
    rows = (scope(user, Incident.objects.filter(status__in=OPEN_STATUSES)).values("category")
            .annotate(n=Count("pk"), breached=Count("pk", filter=breached_q(now)),
                      awaiting=Count("pk", filter=Q(status=IncidentStatus.AWAITING_USER)),
                      major=Count("pk", filter=Q(is_major=True)))
            .order_by("category"))
    by_category = {row["category"]: row for row in rows}
    categories = [(category, by_category.get(category.value, {"n": 0, "breached": 0, "awaiting": 0, "major": 0}))
                  for category in IncidentCategory]
    list_url = reverse("servicedesk:incident_list")
    return {"categories": categories, "total": sum(r["n"] for r in by_category.values()),
            "breached": sum(r["breached"] for r in by_category.values()), "list_url": list_url}


def my_incidents_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """The person's organisation's open incidents (and those it follows); those awaiting its
    answer listed first with their clocks."""
    from servicedesk.views import incident_rows

    visible = scope(user, Incident.objects.filter(status__in=OPEN_STATUSES))
    counts = visible.aggregate(n=Count("pk"), breached=Count("pk", filter=breached_q(now)))
    awaiting = visible.filter(status=IncidentStatus.AWAITING_USER, organisation=getattr(user, "organisation_id", None))
    latest = list(awaiting.select_related("organisation", "resolver", "assignee").order_by("-number")[:ROWS])
    if len(latest) < ROWS:
        latest += list(visible.exclude(pk__in=[i.pk for i in latest])
                       .select_related("organisation", "resolver", "assignee").order_by("-number")[:ROWS - len(latest)])
    return {"count": counts["n"], "breached": counts["breached"], "rows": incident_rows(latest, now=now),
            "list_url": reverse("servicedesk:incident_list"), "awaiting": sum(
                1 for i in latest if i.status == IncidentStatus.AWAITING_USER)}


# After the operational DCC tiles (adapter's alerts at 60) and the service user's own (slas' at 140, 150).
register_tile(Tile("incidents_by_category", "Open incidents by category", DCC, open_by_category_context,
                   "servicedesk/incident_tile_by_category.html", weight=65))
register_tile(Tile("my_incidents", "Your open incidents", ("service_user",), my_incidents_context,
                   "servicedesk/incident_tile_mine.html", wide=True, weight=160))


def service_status_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    troubled = list(scope(user, ServiceComponent.objects.filter(is_active=True)
                          .exclude(status=ComponentStatus.OPERATIONAL)))
    next_maintenance = (scope(user, PlannedMaintenance.objects.filter(status=MaintenanceStatus.ANNOUNCED,
                                                                      end_at__gt=now))
                        .order_by("start_at").first())
    return {"troubled": troubled,
            "active_alerts": scope(user, ServiceAlert.objects.filter(closed_at__isnull=True)).count(),
            "next_maintenance": next_maintenance, "status_url": reverse("servicedesk:status")}


register_tile(Tile("service_status", "Service status", EVERYONE, service_status_context,
                   "servicedesk/partials/status_tile.html", refresh="60s", weight=60))

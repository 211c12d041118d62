"""The service status tile of the dashboard: components not operational, active service alerts
and the next announced maintenance. Three queries whatever the number of alerts. Registered in
ServicedeskConfig.ready()."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from portal.access import EVERYONE
from portal.registry import Tile, register_tile
from portal.scoping import scope
from servicedesk.choices import ComponentStatus, MaintenanceStatus
from servicedesk.models import PlannedMaintenance, ServiceAlert, ServiceComponent

if TYPE_CHECKING:
    from portal.types import Viewer


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

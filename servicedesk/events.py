"""Events the service desk publishes (portal.events.publish), each offered to webhooks, with the
schema of their ``data`` (portal.eventschema). Registered in ServicedeskConfig.ready()."""
from portal.eventschema import DATETIME, INTEGER, MONTH, STRING, STRINGS, fields, nullable
from portal.registry import Event, register_event

INCIDENT = fields(reference=STRING, status=STRING, category=INTEGER)  # category: 1 (highest) to 5

register_event(Event("incident.created", "An incident was raised", webhook=True, weight=90, data=INCIDENT))
register_event(Event("incident.updated", "An incident was updated", webhook=True, weight=91, data=INCIDENT))
register_event(Event("incident.resolved", "An incident was resolved", webhook=True, weight=92, data=INCIDENT))
register_event(Event("incident.reopened", "An incident was re-opened", webhook=True, weight=93, data=INCIDENT))
register_event(Event("service_alert.published", "A service alert was published", webhook=True, weight=94,
                     data=fields(reference=STRING, regions=STRINGS, components=STRINGS,
                                 expected_resolution_at=nullable(DATETIME))))
register_event(Event("maintenance.scheduled", "Planned maintenance was announced", webhook=True, weight=95,
                     data=fields(reference=STRING, start_at=DATETIME, end_at=DATETIME, alert=STRING)))
register_event(Event("self_service_report.delivered", "A monthly self-service report was delivered",
                     webhook=True, weight=96, data=fields(kind=STRING, month=MONTH, rows=INTEGER)))

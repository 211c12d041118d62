"""Events the service desk publishes (portal.events.publish), each offered to webhooks.
Registered in ServicedeskConfig.ready()."""
from portal.registry import Event, register_event

register_event(Event("incident.created", "An incident was raised", webhook=True, weight=90))
register_event(Event("incident.updated", "An incident was updated", webhook=True, weight=91))
register_event(Event("incident.resolved", "An incident was resolved", webhook=True, weight=92))
register_event(Event("incident.reopened", "An incident was re-opened", webhook=True, weight=93))
register_event(Event("service_alert.published", "A service alert was published", webhook=True, weight=94))
register_event(Event("maintenance.scheduled", "Planned maintenance was announced", webhook=True, weight=95))
register_event(Event("self_service_report.delivered", "A monthly self-service report was delivered",
                     webhook=True, weight=96))

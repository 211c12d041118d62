"""Events the service levels publish (portal.events.publish), each offered to webhooks.
Registered in SlasConfig.ready()."""
from portal.registry import Event, register_event

register_event(Event("statement.issued", "A statement was issued", webhook=True, weight=50))
register_event(Event("burnrate.warning", "A measure burns its error budget too fast", webhook=True, weight=80))

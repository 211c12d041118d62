"""Events device commands publish (portal.events.publish), each offered to webhooks.
Registered in AdapterConfig.ready()."""
from portal.registry import Event, register_event

# Weights: the order of the webhook subscription list, across apps.
register_event(Event("request.failed", "A service request failed", webhook=True, weight=10))
register_event(Event("alert.received", "An alert was received", webhook=True, weight=20))
register_event(Event("request.quarantined", "A request was quarantined", webhook=True, weight=30))

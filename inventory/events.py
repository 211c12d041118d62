"""Events the asset register publishes (portal.events.publish): a withdrawn device model reaches
the people watching it and endpoints subscribed to every event ("*"). Each declares the schema of
its ``data`` (portal.eventschema). Registered in InventoryConfig.ready()."""
from portal.eventschema import INTEGER, STRING, fields
from portal.registry import Event, register_event

register_event(Event("device_model.withdrawn", "A device model was withdrawn",
                     data=fields(model=INTEGER, reason=STRING)))

"""Events the service levels publish (portal.events.publish), each offered to webhooks, with the
schema of their ``data`` (portal.eventschema). Registered in SlasConfig.ready()."""
from portal.eventschema import DECIMAL, INTEGER, MONTH, OBJECT, STRING, fields, nullable
from portal.registry import Event, register_event

register_event(Event("statement.issued", "A statement was issued", webhook=True, weight=50,
                     data=fields(month=MONTH, version=INTEGER, amount=DECIMAL)))
register_event(Event("burnrate.warning", "A measure burns its error budget too fast", webhook=True, weight=80,
                     data=fields(measure=STRING, measurement_type=STRING, region=nullable(STRING),
                                 short=OBJECT, long=OBJECT, threshold=DECIMAL)))

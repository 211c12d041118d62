"""Events device commands publish (portal.events.publish), each offered to webhooks, with the
schema of their ``data`` (portal.eventschema). Registered in AdapterConfig.ready()."""
from portal.eventschema import DATETIME, INTEGER, NO_DATA, STRING, fields, nullable
from portal.registry import Event, register_event

# Weights: the order of the webhook subscription list, across apps.
# A failed or quarantined request is told by the envelope alone: "object" names the request.
register_event(Event("request.failed", "A service request failed", webhook=True, weight=10, data=NO_DATA))
register_event(Event("alert.received", "An alert was received", webhook=True, weight=20,
                     data=fields(alert_id=STRING, alert_code=STRING, device_id=nullable(STRING), raised_at=DATETIME)))
register_event(Event("request.quarantined", "A request was quarantined", webhook=True, weight=30, data=NO_DATA))
# Told to DCC staff only (a pending loosening of a floored threshold awaits their approval).
register_event(Event("threshold.change_requested", "A threshold change awaits DCC approval", webhook=False, weight=40,
                     data=NO_DATA))
# A rollout's changes of state (adapter.rollouts), each also a RolloutEvent row with who and why;
# weights 31-39 keep them beside the other device-command events in the subscription list.
ROLLOUT_DATA = fields(from_state=STRING, to_state=STRING, reason=STRING, wave=nullable(INTEGER))
for name, description, weight in (
    ("rollout.started", "A rollout started", 31),
    ("rollout.wave_started", "A wave of a rollout started", 32),
    ("rollout.wave_ready", "A wave of a rollout waits for a person to start it", 33),
    ("rollout.awaiting_approval", "A wave of a rollout waits for four eyes", 34),
    ("rollout.paused", "A rollout paused (by a person or its error threshold)", 35),
    ("rollout.resumed", "A paused rollout resumed", 36),
    ("rollout.cancelled", "A rollout was cancelled", 37),
    ("rollout.completed", "A rollout completed", 38),
    ("rollout.retry_started", "A rollout retries its failed of a class", 39),
):
    register_event(Event(name, description, webhook=True, weight=weight, data=ROLLOUT_DATA))

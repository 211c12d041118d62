"""Events the governance registers publish (portal.events.publish). Overdue actions and opened
or closed consultations are offered to webhooks; the rest reach the people concerned (owners,
originators, watchers) and endpoints subscribed to every event ("*"). Each declares the schema of
its ``data`` (portal.eventschema). Registered in WorkshopsConfig.ready()."""
from portal.eventschema import DATE, INTEGER, NO_DATA, STRING, STRINGS, fields
from portal.registry import Event, register_event

CONSULTATION = fields(title=STRING, opens=DATE, closes=DATE, comments=INTEGER)

register_event(Event("action.overdue", "An action is overdue", webhook=True, weight=40,
                     data=fields(reference=STRING, title=STRING, due=DATE, status=STRING, owners=STRINGS)))
register_event(Event("consultation.opened", "A consultation opened", webhook=True, weight=60, data=CONSULTATION))
register_event(Event("consultation.closed", "A consultation closed", webhook=True, weight=70, data=CONSULTATION))
# Told to people: the envelope ("object", "summary", "url") says it all.
register_event(Event("action.raised", "An action was raised (told to its owners)", data=NO_DATA))
register_event(Event("action.status_changed", "An action's status changed (told to its owners)", data=NO_DATA))
register_event(Event("action.digest", "A person's weekly digest of the actions they own", data=NO_DATA))
register_event(Event("raid.closure_requested", "A RAID item was closed: its originator is asked to confirm",
                     data=NO_DATA))
register_event(Event("raid.confirmed", "The originator confirmed a RAID item's closure", data=NO_DATA))
register_event(Event("raid.rejected", "The originator re-opened a RAID item", data=NO_DATA))

"""Events the governance registers publish (portal.events.publish). Overdue actions and opened
or closed consultations are offered to webhooks; the rest reach the people concerned (owners,
originators, watchers) and endpoints subscribed to every event ("*").
Registered in WorkshopsConfig.ready()."""
from portal.registry import Event, register_event

register_event(Event("action.overdue", "An action is overdue", webhook=True, weight=40))
register_event(Event("consultation.opened", "A consultation opened", webhook=True, weight=60))
register_event(Event("consultation.closed", "A consultation closed", webhook=True, weight=70))
register_event(Event("action.raised", "An action was raised (told to its owners)"))
register_event(Event("action.status_changed", "An action's status changed (told to its owners)"))
register_event(Event("action.digest", "A person's weekly digest of the actions they own"))
register_event(Event("raid.closure_requested", "A RAID item was closed: its originator is asked to confirm"))
register_event(Event("raid.confirmed", "The originator confirmed a RAID item's closure"))
register_event(Event("raid.rejected", "The originator re-opened a RAID item"))

"""The Governance section: meetings, actions, RAID log, documents and consultations, for DCC and
SDAG members. Registered in WorkshopsConfig.ready()."""
from portal.access import GOVERNANCE
from portal.registry import NavEntry, NavSection, register_nav_entry, register_nav_section

register_nav_section(NavSection("governance", "Governance", weight=30))
for weight, (label, url_name) in enumerate([
    ("Meetings", "workshops:meeting_list"),
    ("Actions", "workshops:action_list"),
    ("RAID log", "workshops:raid_list"),
    ("Documents", "workshops:document_list"),
    ("Consultations", "workshops:consultation_list"),
], start=1):
    register_nav_entry(NavEntry("governance", label, url_name, GOVERNANCE, weight=10 * weight))

"""The Service levels section (its reports come from slas/reports.py; the measures list is a
plain link for everyone), and the burn-rate thresholds and episodes under Admin.
Registered in SlasConfig.ready()."""
from portal.access import DCC, DCC_ADMIN, EVERYONE
from portal.registry import NavEntry, NavSection, register_nav_entry, register_nav_section

register_nav_section(NavSection("service_levels", "Service levels", weight=20))
# After the reports (weights 10 and 20 in slas/reports.py).
register_nav_entry(NavEntry("service_levels", "Measures", "slas:measure_list", EVERYONE, weight=30))
# Burn-rate thresholds: DCC administrators edit them; the episodes they fired are DCC's to read.
# After the ground's Admin links (weights 10-70 in portal/navigation.py).
register_nav_entry(NavEntry("admin", "Burn-rate rules", "burnrate_rule_list", DCC_ADMIN, weight=80))
register_nav_entry(NavEntry("admin", "Burn-rate episodes", "burnrate_episode_list", DCC, weight=90))

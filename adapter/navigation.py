"""Device commands' links under Operations: service requests, batches and alerts, for DCC and
service users. Registered in AdapterConfig.ready()."""
from portal.access import DCC, OPERATIONS
from portal.registry import NavEntry, register_nav_entry

# Weights 40-60: after the asset register's links (10-30).
register_nav_entry(NavEntry("operations", "Service requests", "adapter:request_list", OPERATIONS, weight=40))
register_nav_entry(NavEntry("operations", "Batches", "adapter:batch_list", OPERATIONS, weight=50))
register_nav_entry(NavEntry("operations", "Alerts", "adapter:alert_list", OPERATIONS, weight=60))
register_nav_entry(NavEntry("operations", "Approvals", "adapter:approvals", DCC, weight=55))
register_nav_entry(NavEntry("operations", "Signing certificates", "adapter:certificate_list", OPERATIONS, weight=65))
register_nav_entry(NavEntry("operations", "Rollouts", "adapter:rollout_list", OPERATIONS, weight=52))

"""The asset register's links under Operations: devices for operational staff, device models and
configuration items (reference data) for everyone. Registered in InventoryConfig.ready()."""
from portal.access import EVERYONE, OPERATIONS
from portal.registry import NavEntry, register_nav_entry

# Weights 10-30: after the dashboard, before the adapter's links (40-60).
register_nav_entry(NavEntry("operations", "Devices", "inventory:device_list", OPERATIONS, weight=10))
register_nav_entry(NavEntry("operations", "Device models", "inventory:model_list", EVERYONE, weight=20))
register_nav_entry(NavEntry("operations", "Configuration items", "inventory:ci_list", EVERYONE, weight=30))

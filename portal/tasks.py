"""Background work of the portal app (none yet: organisations and people change by hand)."""

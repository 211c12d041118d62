"""api of the inventory app."""

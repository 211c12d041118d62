"""filtersets of the inventory app."""

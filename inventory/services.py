"""services of the inventory app."""

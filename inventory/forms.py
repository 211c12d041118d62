"""forms of the inventory app."""

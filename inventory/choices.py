"""choices of the inventory app."""

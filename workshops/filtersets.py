"""filtersets of the workshops app."""

"""filtersets of the adapter app."""

"""tasks of the adapter app."""

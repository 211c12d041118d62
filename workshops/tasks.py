"""tasks of the workshops app."""

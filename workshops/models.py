"""models of the workshops app."""

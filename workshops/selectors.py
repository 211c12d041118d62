"""selectors of the workshops app."""

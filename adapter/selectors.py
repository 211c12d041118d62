"""selectors of the adapter app."""

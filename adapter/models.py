"""models of the adapter app."""

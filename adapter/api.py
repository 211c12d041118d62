"""api of the adapter app."""

"""api of the workshops app."""

"""admin of the adapter app."""

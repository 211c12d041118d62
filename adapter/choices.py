"""choices of the adapter app."""

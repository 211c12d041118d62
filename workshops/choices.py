"""choices of the workshops app."""

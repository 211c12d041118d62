"""choices of the slas app."""

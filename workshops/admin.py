"""admin of the workshops app."""

"""views of the workshops app."""

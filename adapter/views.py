"""views of the adapter app."""

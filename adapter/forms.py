"""forms of the adapter app."""

"""forms of the workshops app."""

"""services of the workshops app."""

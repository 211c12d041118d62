"""services of the adapter app."""

"""filtersets of the slas app."""

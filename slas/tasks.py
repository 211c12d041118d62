"""tasks of the slas app."""

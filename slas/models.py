"""models of the slas app."""

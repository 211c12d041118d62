"""api of the slas app."""

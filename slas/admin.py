"""admin of the slas app."""

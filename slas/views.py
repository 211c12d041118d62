"""views of the slas app."""

"""forms of the slas app."""

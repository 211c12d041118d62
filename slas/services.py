"""services of the slas app."""

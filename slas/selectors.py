"""selectors of the slas app."""

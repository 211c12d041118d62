"""Template helpers of the governance registers."""
from django import template

from workshops.choices import colour

register = template.Library()


@register.filter
def status_colour(value):
    """Badge colour of a status value (workshops.choices.COLOURS)."""
    return colour(value)

"""Template helpers of the adapter: badge colours of states, durations in seconds."""
from django import template

from adapter.choices import colour

register = template.Library()


@register.filter
def state_colour(value):
    return colour(value)


@register.filter
def seconds(value):
    """A timedelta as '3.42 s' (or '2 h 05 min' when long)."""
    if value is None:
        return "—"
    total = value.total_seconds()
    if abs(total) < 120:
        return f"{total:.2f} s"
    minutes = int(total // 60)
    if minutes < 120:
        return f"{minutes} min {int(total % 60):02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"

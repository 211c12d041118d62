"""Template helpers used on every page: status badges and the audit trail of an object."""
from django import template

from portal import selectors
from portal.choices import BADGES

register = template.Library()


@register.inclusion_tag("partials/badge.html")
def badge(value, label=None, colour=None):
    """A coloured status badge. Apps add their colours to portal.choices.BADGES or pass one."""
    key = getattr(value, "value", value)
    return {"label": label or getattr(value, "label", None) or str(key).replace("_", " "),
            "colour": colour or BADGES.get(str(key), "grey")}


@register.inclusion_tag("partials/audit_trail.html", takes_context=True)
def audit_trail(context, obj, limit=50):
    entries = list(selectors.audit_entries_for_object(context["request"].user, obj)[:limit])
    return {"entries": entries}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None

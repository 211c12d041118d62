"""Template helpers used on every page: status badges, the audit trail of an object and the
capability check (``{% may "inventory.device.register" as allowed %}``)."""
from django import template

from portal import access, selectors
from portal.choices import BADGES

register = template.Library()


@register.inclusion_tag("partials/badge.html")
def badge(value, label=None, colour=None):
    """A coloured status badge. Apps add their colours to portal.choices.BADGES or pass one."""
    key = getattr(value, "value", value)
    return {"label": label or getattr(value, "label", None) or str(key).replace("_", " "),
            "colour": colour or BADGES.get(str(key), "grey")}


@register.simple_tag(takes_context=True)
def may(context, capability, obj=None):
    """Whether the person viewing the page may do ``capability`` (on ``obj``): portal.access.may,
    so a template asks the capability table instead of comparing roles.
    ``{% may "slas.charge.set" as can_set %}{% if can_set %}...{% endif %}``"""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return access.may(user, capability, obj)


@register.inclusion_tag("partials/audit_trail.html", takes_context=True)
def audit_trail(context, obj, limit=50):
    entries = list(selectors.audit_entries_for_object(context["request"].user, obj)[:limit])
    # the request too: the entries read as the viewer may see them (names, links; portal.audit)
    return {"entries": entries, "request": context["request"]}


@register.simple_tag(takes_context=True)
def audit_rows(context, entries):
    """``{% audit_rows entries as rows %}``: the entries as the viewer reads them (portal.audit)."""
    from portal.audit import audit_rows as rows_of

    request = context.get("request")
    return rows_of(getattr(request, "user", None) or context.get("user"), entries)


@register.filter
def change_rows(changes):
    """(field, before, after) rows of an audit entry's changes. ``changes.items`` in a template
    would look up a field called "items" (an m2m field of that name broke the trail), and m2m
    changes are stored as {"type": "m2m", "operation", "objects"}, not [before, after]."""
    rows = []
    for field, values in (changes or {}).items():
        if isinstance(values, dict) and values.get("type") == "m2m":
            objects = ", ".join(str(o) for o in values.get("objects", []))
            removed = values.get("operation") == "delete"
            rows.append((field, objects if removed else "", "" if removed else objects))
        else:
            values = list(values) + ["", ""] if isinstance(values, (list, tuple)) else [values, ""]
            rows.append((field, values[0], values[1]))
    return rows


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None

"""Reads of the inventory app that more than one caller uses."""
from django.core.exceptions import ValidationError

from inventory.models import Device
from portal.ids import normalise_eui64


def device_by_any_id(value):
    """The device named by ``value`` in any accepted EUI-64 form, or None when the value is
    malformed or no such device exists. Not scoped: callers scope what they show."""
    try:
        canonical = normalise_eui64(value)
    except (ValidationError, TypeError):
        return None
    return Device.objects.filter(device_id=canonical).select_related("supplier", "model", "hub").first()

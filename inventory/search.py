"""Search providers of the asset register: devices by any form of their EUI-64 id or by MPAN/MPRN
(exact keys, unique-index lookups, never a text scan of the device register), configuration
items by key, name or free text, device models by model id or manufacturer.
Registered in InventoryConfig.ready()."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import Q

from inventory.models import ConfigurationItem, Device, DeviceModel
from portal.ids import normalise_eui64
from portal.registry import SearchProvider, register_search
from portal.scoping import scope
from portal.search import PER_KIND, Result, full_text, result_url

if TYPE_CHECKING:
    from portal.types import Viewer

MPXN = re.compile(r"^\d{6,13}$")


def _eui64(query: str) -> str | None:
    try:
        return normalise_eui64(query)
    except (ValidationError, ValueError):
        return None


def devices(user: Viewer, query: str) -> list[Result]:
    eui = _eui64(query)
    compact = query.replace(" ", "")
    if eui:
        condition = Q(device_id=eui)
    elif MPXN.match(compact):
        condition = Q(mpxn=compact)
    else:
        return []
    found = scope(user, Device.objects.filter(condition).select_related("supplier"))[:PER_KIND]
    return [Result(d.device_id, f"{d.get_device_type_display()} · {d.get_status_display()} · "
                   f"{d.supplier.code} · MPxN {d.mpxn or '—'}", result_url(d, "inventory:device_detail", d.device_id))
            for d in found]


def configuration_items(user: Viewer, query: str) -> list[Result]:
    queryset = scope(user, ConfigurationItem.objects.all())
    exact = list(queryset.filter(Q(key__iexact=query) | Q(name__iexact=query))[:PER_KIND])
    found = exact or list(full_text(queryset, query, ["key", "name", "description"])[:PER_KIND])
    return [Result(i.name, f"{i.key} · {i.get_kind_display()} {i.version}",
                   result_url(i, "inventory:ci_detail", i.key)) for i in found]


def device_models(user: Viewer, query: str) -> list[Result]:
    found = scope(user, DeviceModel.objects.filter(Q(model_id__iexact=query) | Q(manufacturer_name__iexact=query)))
    return [Result(f"{m.manufacturer_name or m.manufacturer_id} {m.model_id}", m.get_device_type_display(),
                   result_url(m, "inventory:model_detail", m.pk)) for m in found[:PER_KIND]]


# Weights: devices lead the key kinds; items and models follow workshops' free-text kinds.
register_search(SearchProvider("device", "Devices", devices, key=True, weight=10))
register_search(SearchProvider("ci", "Configuration items", configuration_items, weight=60))
register_search(SearchProvider("device_model", "Device models", device_models, weight=70))

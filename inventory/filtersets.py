"""Filters of the device, model and item lists (pages, exports and the API share them)."""
import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q

from inventory.choices import DeviceModelStatus, DeviceType, ItemKind, ItemStatus, SMIStatus
from inventory.models import ConfigurationItem, Device, DeviceModel, ItemRelationship
from inventory.selectors import device_search_q
from portal.choices import Region
from portal.ids import normalise_eui64
from portal.models import Organisation
from portal.scoping import scope


def _suppliers(request):
    """Suppliers a user may filter by: only their own organisation for service users."""
    queryset = Organisation.objects.filter(kind="service_user").order_by("code")
    if request is None:
        return queryset
    return scope(request.user, queryset)


class DeviceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Device id or MPxN")
    device_type = django_filters.ChoiceFilter(choices=DeviceType.choices, label="Type")
    status = django_filters.ChoiceFilter(choices=SMIStatus.choices)
    supplier = django_filters.ModelChoiceFilter(queryset=_suppliers, to_field_name="code")
    region = django_filters.ChoiceFilter(choices=Region.choices)
    model = django_filters.ModelChoiceFilter(queryset=DeviceModel.objects.all())
    firmware_version = django_filters.CharFilter(label="Firmware")
    hub = django_filters.CharFilter(method="filter_hub", label="Hub (device id)")

    class Meta:
        model = Device
        fields = ["q", "device_type", "status", "supplier", "region", "model", "firmware_version", "hub"]

    def filter_q(self, queryset, name, value):
        condition = device_search_q(value)
        # Text that is neither a device id nor an MPxN matches nothing (rather than scanning a
        # million rows with LIKE).
        return queryset.filter(condition) if condition is not None else queryset.none()

    def filter_hub(self, queryset, name, value):
        try:
            canonical = normalise_eui64(value, field="hub")
        except ValidationError:
            return queryset.none()
        return queryset.filter(hub__device_id=canonical)


class DeviceModelFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Manufacturer or model")
    device_type = django_filters.ChoiceFilter(choices=DeviceType.choices, label="Type")
    status = django_filters.ChoiceFilter(choices=DeviceModelStatus.choices)

    class Meta:
        model = DeviceModel
        fields = ["q", "device_type", "status", "smets_version", "manufacturer_id"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(model_id__icontains=value) | Q(manufacturer_name__icontains=value)
                               | Q(manufacturer_id__iexact=value))


class ItemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name or key")
    kind = django_filters.ChoiceFilter(choices=ItemKind.choices)
    status = django_filters.ChoiceFilter(choices=ItemStatus.choices)

    class Meta:
        model = ConfigurationItem
        fields = ["q", "kind", "status"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(key__icontains=value))


class RelationshipFilterSet(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__key")
    target = django_filters.CharFilter(field_name="target__key")

    class Meta:
        model = ItemRelationship
        fields = ["source", "target", "kind"]

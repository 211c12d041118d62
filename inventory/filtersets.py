"""Filters of the device, model and item lists (pages, exports and the API share them)."""
import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters.fields import ModelChoiceField, ModelChoiceIterator

from inventory.choices import DeviceModelStatus, DeviceType, ItemKind, ItemStatus, SMIStatus
from inventory.forms import QuickForm
from inventory.models import ConfigurationItem, Device, DeviceModel, ItemRelationship
from inventory.selectors import device_search_q, hubs_seen_by
from portal.choices import OrganisationKind, Region
from portal.ids import normalise_eui64
from portal.models import Organisation
from portal.scoping import scope


def _suppliers(request):
    """Suppliers a user may filter by: only their own organisation for service users."""
    queryset = Organisation.objects.filter(kind=OrganisationKind.SERVICE_USER).order_by("code")
    if request is None:
        return queryset
    return scope(request.user, queryset)


class _ColumnsIterator(ModelChoiceIterator):
    """The options of a _ColumnsChoiceField: one values_list query (no model instances, no
    server-side cursor, which is three round trips on PostgreSQL), read every time the <select>
    is drawn. They used to be cached for a minute, so a new supplier or device model was missing
    from the list pages for up to that long; the tables are small (organisations, the products
    list: hundreds of rows), one indexed query each, so reading them is cheaper than keeping a
    cache right on every write path (an organisation is written by the ground, which cannot tell
    inventory)."""

    def __iter__(self):
        field = self.field
        if field.empty_label is not None:
            yield ("", field.empty_label)
        if field.null_label is not None:
            yield (field.null_value, field.null_label)
        yield from self._options()

    def _options(self):
        field = self.field
        rows = self.queryset.values_list(field.to_field_name or "pk", *field.label_columns)
        return [(value, field.label_from_columns(*columns)) for value, *columns in rows]


class _ColumnsChoiceField(ModelChoiceField):
    iterator = _ColumnsIterator

    def __init__(self, *args, label_columns, label_from_columns, **kwargs):
        self.label_columns, self.label_from_columns = label_columns, label_from_columns
        super().__init__(*args, **kwargs)


class ColumnsChoiceFilter(django_filters.ModelChoiceFilter):
    """A ModelChoiceFilter whose <select> reads only the columns its labels need
    (``label_columns``, joined by ``label_from_columns``); choosing still validates against the
    (scoped) queryset, and the API sees the same filter."""

    field_class = _ColumnsChoiceField


def _model_label(manufacturer_name, manufacturer_id, model_id):
    return f"{manufacturer_name or manufacturer_id} {model_id}"  # DeviceModel.__str__


class DeviceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Device id or MPxN")
    device_type = django_filters.ChoiceFilter(choices=DeviceType.choices, label="Type")
    status = django_filters.ChoiceFilter(choices=SMIStatus.choices)
    supplier = ColumnsChoiceFilter(queryset=_suppliers, to_field_name="code", label_columns=("name",),
                                   label_from_columns=str)  # Organisation.__str__
    region = django_filters.ChoiceFilter(choices=Region.choices)
    model = ColumnsChoiceFilter(queryset=DeviceModel.objects.all(), label_from_columns=_model_label,
                                label_columns=("manufacturer_name", "manufacturer_id", "model_id"))
    firmware_version = django_filters.CharFilter(label="Firmware")
    hub = django_filters.CharFilter(method="filter_hub", label="Hub (device id)")

    class Meta:
        model = Device
        form = QuickForm
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
        # Only a hub the person may see: filtering by another supplier's hub id would tell which of
        # one's devices are joined to it, and so confirm the id.
        user = getattr(self.request, "user", None)
        return queryset.filter(hub__device_id=canonical, hub__in=hubs_seen_by(user))


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

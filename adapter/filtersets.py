"""Filters of the adapter's lists (pages and API)."""
import django_filters

from adapter.choices import MeasurementType, RequestState
from adapter.models import Alert, Batch, ServiceRequest
from portal.choices import Region
from portal.filtersets import UtcDateTimeFilter


class RequestFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=RequestState.choices)
    srv = django_filters.CharFilter(field_name="srv__code", label="SRV")
    measurement_type = django_filters.ChoiceFilter(choices=MeasurementType.choices)
    region = django_filters.ChoiceFilter(choices=Region.choices)
    outcome = django_filters.CharFilter(label="Outcome (I0, E19, ...)")
    device_id = django_filters.CharFilter(method="filter_device", label="Device id")
    batch = django_filters.NumberFilter(field_name="batch_id")
    received_after = UtcDateTimeFilter(field_name="received_at", lookup_expr="gte", label="Received from")
    received_before = UtcDateTimeFilter(field_name="received_at", lookup_expr="lt", label="Received before")

    class Meta:
        model = ServiceRequest
        fields = []

    def filter_device(self, queryset, name, value):
        from portal.ids import is_eui64, normalise_eui64

        return queryset.filter(device_ref=normalise_eui64(value) if is_eui64(value) else value.strip())


class BatchFilterSet(django_filters.FilterSet):
    class Meta:
        model = Batch
        fields = ["state"]


class AlertFilterSet(django_filters.FilterSet):
    alert_code = django_filters.CharFilter(label="Alert code")
    region = django_filters.ChoiceFilter(choices=Region.choices)

    class Meta:
        model = Alert
        fields = ["alert_code", "region"]

"""Filtersets of the portal app."""
import django_filters

from portal.models import Organisation


class OrganisationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Organisation
        fields = ["kind", "provider_code", "region"]

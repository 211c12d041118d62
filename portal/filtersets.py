"""Filtersets of the portal app, and the filters every app's filtersets share."""
import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import IsoDateTimeField

from portal.models import Organisation


class SearchFilter(django_filters.CharFilter):
    """A register's free-text ``?q=``: the rows where any of ``fields`` contains the text
    (case-insensitive). ``distinct`` when a field crosses a to-many relation, so that a row
    matching twice is listed once."""

    def __init__(self, *fields, distinct=False, label="Text", **kwargs):
        super().__init__(label=label, **kwargs)
        self.search_fields = fields
        self.search_distinct = distinct

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        match = Q()
        for field in self.search_fields:
            match |= Q(**{f"{field}__icontains": value})
        qs = qs.filter(match)
        return qs.distinct() if self.search_distinct else qs


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, handed to the database in UTC. Python takes offsets up to 23:59 that
    PostgreSQL refuses ("time zone displacement out of range", which aborts the transaction), and
    an instant near year 1 or 9999 may not exist in UTC at all: refused here, naming the field."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("that instant is out of range") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """IsoDateTimeFilter whose value reaches the database in UTC (UtcDateTimeField)."""

    field_class = UtcDateTimeField


class OrganisationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Organisation
        fields = ["kind", "provider_code", "region"]

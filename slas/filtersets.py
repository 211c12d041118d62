"""Filters of the slas API and pages: by London month (YYYY-MM), naming the field when malformed."""
import django_filters
from django import forms

from slas import metrics
from slas.models import Charge, ReliefEvent, Statement


class MonthField(forms.CharField):
    """'YYYY-MM' -> the first day of that month; anything else is a 400 naming the field."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return metrics.parse_month(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class MonthFilter(django_filters.Filter):
    field_class = MonthField


class StatementFilterSet(django_filters.FilterSet):
    month = MonthFilter(field_name="month", help_text="YYYY-MM")
    organisation = django_filters.CharFilter(field_name="organisation__code", help_text="organisation code")

    class Meta:
        model = Statement
        fields = ["month", "organisation", "version"]


class ChargeFilterSet(django_filters.FilterSet):
    month = MonthFilter(field_name="month", help_text="YYYY-MM")

    class Meta:
        model = Charge
        fields = ["month", "provider"]


class ReliefEventFilterSet(django_filters.FilterSet):
    class Meta:
        model = ReliefEvent
        fields = ["provider", "region"]

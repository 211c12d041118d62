"""Filters of the incident and problem lists. The organisation and resolver filters are DCC's:
a service user sees only its own incidents and those it follows, so there is nothing to choose."""
import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from portal.access import may
from portal.choices import OrganisationKind
from portal.models import Organisation
from portal.scoping import scope
from servicedesk.choices import OPEN_STATUSES, IncidentCategory, IncidentStatus, ProblemStatus
from servicedesk.models import Incident, IncidentReference, Problem


def breached_q(now):
    """Incidents past a due time, from the stored due times (the services keep them current; a
    clock that breached before a pause keeps the instant it was passed, servicedesk.clock.state)."""
    return (Q(responded_at__isnull=True, response_due_at__lt=now)
            | Q(responded_at__isnull=False, response_due_at__isnull=False, responded_at__gt=F("response_due_at"))
            | Q(resolved_at__isnull=True, resolution_due_at__lt=now)
            | Q(resolved_at__isnull=False, resolution_due_at__isnull=False, resolved_at__gt=F("resolution_due_at")))


def _yes_no():
    """"Any / Yes / No" rather than django-filter's "Unknown / Yes / No"."""
    return forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])


class IncidentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Reference, text, device or request id")
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    open = django_filters.BooleanFilter(method="filter_open", label="Open", widget=_yes_no())
    category = django_filters.MultipleChoiceFilter(choices=IncidentCategory.choices)
    resolver = django_filters.ModelChoiceFilter(queryset=Organisation.objects.none())
    organisation = django_filters.ModelChoiceFilter(queryset=Organisation.objects.none(), label="Raised by")
    breached = django_filters.BooleanFilter(method="filter_breached", label="Breached", widget=_yes_no())
    major = django_filters.BooleanFilter(field_name="is_major", label="Major", widget=_yes_no())

    class Meta:
        model = Incident
        fields = ["q", "status", "open", "category", "resolver", "organisation", "breached", "major"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        user = getattr(request, "user", None)
        if user is not None and may(user, "servicedesk.incident.manage"):
            organisations = scope(user, Organisation.objects.order_by("code"))
            self.filters["resolver"].queryset = organisations.filter(
                kind__in=[OrganisationKind.DCC, OrganisationKind.PROVIDER])
            self.filters["organisation"].queryset = organisations.filter(
                kind__in=[OrganisationKind.DCC, OrganisationKind.SERVICE_USER])
        else:
            # Only DCC chooses whose incidents to see; nobody else has anyone to choose.
            del self.filters["resolver"]
            del self.filters["organisation"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        by_reference = IncidentReference.objects.filter(incident=OuterRef("pk"), value__iexact=value)
        return queryset.filter(Q(reference__iexact=value) | Q(summary__icontains=value)
                               | Q(description__icontains=value) | Exists(by_reference))

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        condition = Q(status__in=OPEN_STATUSES)
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        condition = breached_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)


class ProblemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Reference or text")
    status = django_filters.ChoiceFilter(choices=ProblemStatus.choices)

    class Meta:
        model = Problem
        fields = ["q", "status"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(reference__iexact=value) | Q(title__icontains=value)
                               | Q(description__icontains=value) | Q(root_cause__icontains=value))

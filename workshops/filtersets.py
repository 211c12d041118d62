"""Filters of the governance registers, shared by the pages and the API."""
import django_filters
from django.utils import timezone

from portal.access import may
from portal.filtersets import SearchFilter
from portal.models import Organisation, User
from workshops import models
from workshops.choices import (
    ACTION_LIVE,
    ActionStatus,
    Disposition,
    DistributionState,
    DocumentCategory,
    MeetingKind,
    RaidKind,
    RaidStatus,
)


def _governance_reader(request):
    return may(getattr(request, "user", None), "workshops.registers.read")


def gov_choices(queryset):
    """Choices of a filter that names organisations or people: only for those who may read the
    governance registers (everyone else sees no names at all)."""
    def choices(request):
        return queryset.all() if _governance_reader(request) else queryset.none()
    return choices


OWNERS = gov_choices(User.objects.filter(actions_owned__isnull=False).distinct())
ORGANISATIONS = gov_choices(Organisation.objects.all())
RAID_OWNERS = gov_choices(User.objects.filter(raid_items_owned__isnull=False).distinct())


class MeetingFilterSet(django_filters.FilterSet):
    q = SearchFilter("title", "venue")
    series = django_filters.ModelChoiceFilter(queryset=gov_choices(models.MeetingSeries.objects.all()))
    kind = django_filters.ChoiceFilter(choices=MeetingKind.choices)
    after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="On or after")

    class Meta:
        model = models.Meeting
        fields = ["series", "kind"]


class ActionFilterSet(django_filters.FilterSet):
    q = SearchFilter("reference", "title", "text", "updates__text", distinct=True)
    status = django_filters.MultipleChoiceFilter(choices=ActionStatus.choices)
    owner = django_filters.ModelChoiceFilter(
        field_name="owners", queryset=OWNERS, label="Owner"
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue only")
    mine = django_filters.BooleanFilter(method="filter_mine", label="My actions")
    meeting = django_filters.ModelChoiceFilter(queryset=gov_choices(models.Meeting.objects.all()))

    class Meta:
        model = models.Action
        fields = ["status", "owner", "meeting"]

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(status__in=ACTION_LIVE, due__lt=timezone.localdate())

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        return queryset.owned_by(user)


class RaidFilterSet(django_filters.FilterSet):
    q = SearchFilter("title", "description", "resolution")
    kind = django_filters.ChoiceFilter(choices=RaidKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=RaidStatus.choices)
    topic = django_filters.ModelChoiceFilter(queryset=gov_choices(models.Topic.objects.all()))
    originator = django_filters.ModelChoiceFilter(queryset=ORGANISATIONS)
    owner = django_filters.ModelChoiceFilter(queryset=RAID_OWNERS)

    class Meta:
        model = models.RaidItem
        fields = ["kind", "status", "topic", "originator", "owner"]


class DocumentFilterSet(django_filters.FilterSet):
    q = SearchFilter("name", "content", "reference")
    category = django_filters.ChoiceFilter(choices=DocumentCategory.choices)
    group = django_filters.CharFilter(lookup_expr="iexact")
    owner = django_filters.ModelChoiceFilter(queryset=ORGANISATIONS)

    class Meta:
        model = models.Document
        fields = ["category", "group", "owner"]


class DocumentVersionFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=DistributionState.choices)
    document = django_filters.ModelChoiceFilter(queryset=gov_choices(models.Document.objects.all()))

    class Meta:
        model = models.DocumentVersion
        fields = ["document", "state", "gating_milestone"]


class ConsultationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label="Text")
    open_on = django_filters.DateFilter(method="filter_open_on", label="Open on")

    class Meta:
        model = models.Consultation
        fields = []

    def filter_open_on(self, queryset, name, value):
        return queryset.filter(opens__lte=value, closes__gte=value)


class CommentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="Text")
    theme = django_filters.CharFilter(lookup_expr="iexact")
    disposition = django_filters.ChoiceFilter(choices=Disposition.choices, empty_label="Any")
    organisation = django_filters.ModelChoiceFilter(queryset=ORGANISATIONS)
    consultation = django_filters.ModelChoiceFilter(queryset=gov_choices(models.Consultation.objects.all()))

    class Meta:
        model = models.Comment
        fields = ["consultation", "organisation", "theme", "disposition"]

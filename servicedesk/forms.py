"""Forms of the incident pages. They only parse: every write is a call to servicedesk.services,
whose ValidationError lands on the field it names. Choices come through portal.scoping.scope, and
the fields only DCC fills (on whose behalf, interested parties, internal) are there only for
people who may use them (portal.access.may)."""
import re

from django import forms

from inventory.models import ConfigurationItem
from portal.access import may
from portal.choices import OrganisationKind, Region
from portal.models import Organisation, User
from portal.scoping import scope
from servicedesk.choices import IncidentCategory, IncidentStatus, ProblemStatus, TargetBasis, UpdateKind
from servicedesk.models import DeskPolicy, Incident, Problem, ServiceComponent

_SPLIT = re.compile(r"[\s,;]+")
TEXT = forms.Textarea(attrs={"rows": 4})


def split_list(text):
    """Device ids or request ids typed one per line, or separated by commas or spaces."""
    return [part for part in _SPLIT.split(text or "") if part]


def _organisations(user, *kinds):
    return scope(user, Organisation.objects.filter(kind__in=kinds, is_active=True).order_by("code"))


class RaiseForm(forms.Form):
    summary = forms.CharField(max_length=200)
    description = forms.CharField(widget=TEXT, help_text="What happened, since when, and what you checked on your "
                                                          "own systems first")
    proposed_category = forms.TypedChoiceField(choices=IncidentCategory.choices, coerce=int, initial=3,
                                               label="Category", help_text="Your view; DCC sets the category")
    affected_items = forms.ModelMultipleChoiceField(queryset=ConfigurationItem.objects.none(), required=False,
                                                    label="Affected services and components")
    devices = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                              help_text="Device ids (EUI-64), one per line or separated by commas")
    service_requests = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                       help_text="Request ids, one per line or separated by commas")
    regions = forms.MultipleChoiceField(choices=Region.choices, required=False,
                                        widget=forms.CheckboxSelectMultiple)
    # DCC only: logging on behalf of a service user that called or e-mailed the Service Desk
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), required=False,
                                          help_text="Whose incident it is (empty: DCC's own)")
    raised_by = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                       help_text="The person of that organisation who reported it")
    caller = forms.CharField(max_length=200, required=False,
                             help_text="Or the caller's name and contact, when they have no login")
    interested_parties = forms.ModelMultipleChoiceField(queryset=Organisation.objects.none(), required=False)

    DCC_FIELDS = ("organisation", "raised_by", "caller", "interested_parties")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["affected_items"].queryset = scope(user, ConfigurationItem.objects.order_by("name"))
        if may(user, "servicedesk.incident.manage"):
            self.fields["organisation"].queryset = _organisations(user, OrganisationKind.SERVICE_USER,
                                                                  OrganisationKind.DCC)
            self.fields["raised_by"].queryset = scope(user, User.objects.filter(is_active=True)
                                                      .select_related("organisation").order_by("username"))
            self.fields["interested_parties"].queryset = _organisations(user, OrganisationKind.SERVICE_USER,
                                                                        OrganisationKind.PROVIDER)
        else:
            for name in self.DCC_FIELDS:
                del self.fields[name]

    def arguments(self):
        """The keyword arguments of services.incident_raise."""
        data = self.cleaned_data
        arguments = {name: data[name] for name in ("summary", "description", "proposed_category", "regions")}
        arguments["affected_items"] = list(data["affected_items"])
        arguments["devices"] = split_list(data["devices"])
        arguments["service_requests"] = split_list(data["service_requests"])
        if "organisation" in self.fields:
            arguments["organisation"] = data["organisation"] or self.user.organisation
            arguments["raised_by"] = data["raised_by"]
            arguments["caller"] = data["caller"]
            arguments["interested_parties"] = list(data["interested_parties"])
        return arguments


class UpdateForm(forms.Form):
    kind = forms.ChoiceField(choices=[(UpdateKind.NOTE, UpdateKind.NOTE.label),
                                      (UpdateKind.WORKAROUND, UpdateKind.WORKAROUND.label)], initial=UpdateKind.NOTE)
    text = forms.CharField(widget=TEXT)
    internal = forms.BooleanField(required=False, label="DCC internal (the incident's parties do not see it)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not may(user, "servicedesk.incident.view_internal"):
            del self.fields["internal"]
        if not may(user, "servicedesk.incident.manage"):
            # Workarounds are DCC's word: the others write notes.
            del self.fields["kind"]


class TextForm(forms.Form):
    """One text: a request for information, or its answer."""

    text = forms.CharField(widget=TEXT)


class AssignForm(forms.Form):
    resolver = forms.ModelChoiceField(queryset=Organisation.objects.none())
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                      help_text="DCC staff or a person of the resolver")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        resolvers = _organisations(user, OrganisationKind.DCC, OrganisationKind.PROVIDER)
        self.fields["resolver"].queryset = resolvers
        self.fields["assignee"].queryset = scope(user, User.objects.filter(
            is_active=True, organisation__in=resolvers).select_related("organisation").order_by("username"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(IncidentStatus.ASSIGNED, IncidentStatus.ASSIGNED.label),
                                        (IncidentStatus.IN_PROGRESS, IncidentStatus.IN_PROGRESS.label)])
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class CategoryForm(forms.Form):
    category = forms.TypedChoiceField(choices=IncidentCategory.choices, coerce=int)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             help_text="Why the category is set or changed (kept on the timeline)")


class ResolveForm(forms.Form):
    resolution = forms.CharField(widget=TEXT, required=False, help_text="How it was resolved")


class CloseForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReopenForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             help_text="Why it is not resolved")


class AttachForm(forms.Form):
    file = forms.FileField(help_text="PDF, image, spreadsheet, document, ZIP of logs or text")
    internal = forms.BooleanField(required=False, label="DCC internal")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not may(user, "servicedesk.incident.view_internal"):
            del self.fields["internal"]


class RepeatForm(forms.Form):
    """The earlier incident, by its reference (the service's ``repeat_of`` error lands here)."""

    repeat_of = forms.CharField(max_length=12, label="Earlier incident", help_text="Its reference, e.g. INC000123")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_repeat_of(self):
        reference = self.cleaned_data["repeat_of"].strip().upper()
        earlier = scope(self.user, Incident.objects.all()).filter(reference=reference).first()
        if earlier is None:
            raise forms.ValidationError(f"no incident {reference}")
        return earlier


class ProblemLinkForm(forms.Form):
    problem = forms.ModelChoiceField(queryset=Problem.objects.none(), required=False,
                                     help_text="Empty: take the incident out of its problem")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["problem"].queryset = scope(user, Problem.objects.all())


class PartiesForm(forms.Form):
    parties = forms.ModelMultipleChoiceField(queryset=Organisation.objects.none(), required=False,
                                             label="Interested parties", widget=forms.CheckboxSelectMultiple,
                                             help_text="Other organisations that may see and follow it")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parties"].queryset = _organisations(user, OrganisationKind.SERVICE_USER,
                                                         OrganisationKind.PROVIDER)


class MajorForm(forms.Form):
    alert_title = forms.CharField(max_length=200, required=False,
                                  help_text="The service alert's title (empty: 'Major incident INC...')")
    alert_description = forms.CharField(widget=TEXT, required=False,
                                        help_text="In DCC's words: every user reads it")
    components = forms.ModelMultipleChoiceField(queryset=ServiceComponent.objects.none(), required=False,
                                                help_text="Empty: the components of the affected items")
    expected_resolution_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}), help_text="UK time")
    confirm = forms.BooleanField(label="Publish a service alert to every user and tell every affected organisation")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = scope(user, ServiceComponent.objects.filter(is_active=True))


class MajorReportForm(forms.Form):
    summary = forms.CharField(widget=TEXT)
    timeline = forms.CharField(widget=TEXT)
    impact = forms.CharField(widget=TEXT)
    root_cause = forms.CharField(widget=TEXT)
    actions = forms.CharField(widget=TEXT)
    reason = forms.CharField(max_length=300, required=False, help_text="Why this version replaces the last")


class ProblemCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=TEXT, required=False)
    incidents = forms.CharField(required=False, help_text="References of the incidents it groups, e.g. INC000123")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_incidents(self):
        references = [r.upper() for r in split_list(self.cleaned_data["incidents"])]
        found = {i.reference: i for i in scope(self.user, Incident.objects.filter(reference__in=references))}
        missing = [r for r in references if r not in found]
        if missing:
            raise forms.ValidationError(f"no incident {', '.join(missing)}")
        return [found[r] for r in dict.fromkeys(references)]


class ProblemUpdateForm(forms.Form):
    root_cause = forms.CharField(widget=TEXT, required=False)
    fix = forms.CharField(widget=TEXT, required=False, help_text="The workaround or permanent fix")
    status = forms.ChoiceField(choices=ProblemStatus.choices)


class TargetTimeForm(forms.Form):
    response_minutes = forms.IntegerField(min_value=1)
    resolution_minutes = forms.IntegerField(min_value=1)
    basis = forms.ChoiceField(choices=TargetBasis.choices)
    note = forms.CharField(max_length=200, required=False)


class PolicyForm(forms.ModelForm):
    """The desk policy's values (the model's own validators); saved through services.policy_set."""

    class Meta:
        model = DeskPolicy
        fields = ["auto_close_working_days", "major_report_working_days", "maintenance_notice_working_days",
                  "attachment_max_bytes", "note"]


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX")

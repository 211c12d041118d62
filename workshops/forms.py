"""Forms of the governance registers: they parse input; services do the writing."""
from django import forms
from django.core.exceptions import ValidationError

from portal.models import Organisation, User
from workshops import models, services
from workshops.choices import ActionStatus, Disposition

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class DueField(forms.CharField):
    """A date (DD.MM.YY, DD/MM/YYYY, ISO) or "tbc"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "DD.MM.YY, DD/MM/YYYY, YYYY-MM-DD or tbc")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if hasattr(value, "strftime"):
            return value.strftime("%d.%m.%y")
        return value or "tbc"

    def clean(self, value):
        try:
            return services.parse_date_or_tbc(super().clean(value))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["due"][0]) from None


def people():
    return User.objects.filter(is_active=True).order_by("last_name", "first_name")


class SeriesForm(forms.ModelForm):
    class Meta:
        model = models.MeetingSeries
        fields = ["code", "name", "kind", "action_prefix", "description"]


class MeetingForm(forms.ModelForm):
    attendees = forms.ModelMultipleChoiceField(queryset=people(), required=False)
    organisations = forms.ModelMultipleChoiceField(queryset=Organisation.objects.all(), required=False)

    class Meta:
        model = models.Meeting
        fields = ["series", "number", "title", "kind", "date", "start", "end", "venue", "attendees", "organisations",
                  "minutes"]
        widgets = {"date": DATE, "start": TIME, "end": TIME}


class AgendaItemForm(forms.ModelForm):
    presenters = forms.ModelMultipleChoiceField(queryset=people(), required=False)

    class Meta:
        model = models.AgendaItem
        fields = ["position", "start", "end", "title", "presenters", "notes", "raid_items", "documents",
                  "consultations"]
        widgets = {"start": TIME, "end": TIME}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False


class OutcomeForm(forms.Form):
    kind = forms.ChoiceField(choices=[("decision", "Decision"), ("information", "Information")])
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ActionForm(forms.ModelForm):
    owners = forms.ModelMultipleChoiceField(queryset=people(), required=False)
    due = DueField()

    class Meta:
        model = models.Action
        fields = ["title", "text", "owners", "all_members", "due"]


class ActionRaiseForm(ActionForm):
    meeting = forms.ModelChoiceField(queryset=models.Meeting.objects.all())
    agenda_item = forms.ModelChoiceField(queryset=models.AgendaItem.objects.select_related("meeting"), required=False)

    class Meta(ActionForm.Meta):
        fields = ["meeting", "agenda_item", *ActionForm.Meta.fields]


class ActionQuickForm(forms.Form):
    """The list's inline form: a status change and/or a dated update."""

    status = forms.ChoiceField(choices=ActionStatus.choices)
    text = forms.CharField(required=False, label="Update", widget=forms.TextInput(attrs={"placeholder": "Update…"}))


class ActionImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX with columns reference,title,text,owners,due,status,updates")


class TopicForm(forms.ModelForm):
    class Meta:
        model = models.Topic
        fields = ["name", "is_active"]


class RaidForm(forms.ModelForm):
    class Meta:
        model = models.RaidItem
        fields = ["kind", "topic", "title", "description", "originator", "owner", "likelihood", "impact", "actions",
                  "documents"]


class RaidCloseForm(forms.Form):
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class RaidRejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class DocumentForm(forms.ModelForm):
    class Meta:
        model = models.Document
        fields = ["category", "reference", "timing", "group", "name", "content", "owner"]


class VersionForm(forms.ModelForm):
    class Meta:
        model = models.DocumentVersion
        fields = ["version", "planned_issue", "actual_issue", "state", "gating_milestone", "notes"]
        widgets = {"planned_issue": DATE, "actual_issue": DATE}


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = models.Milestone
        fields = ["name", "planned", "achieved", "description"]
        widgets = {"planned": DATE, "achieved": DATE}


class ConsultationForm(forms.ModelForm):
    class Meta:
        model = models.Consultation
        fields = ["version", "title", "opens", "closes", "summary"]
        widgets = {"opens": DATE, "closes": DATE}


class CommentForm(forms.ModelForm):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all(), required=False,
                                          help_text="DCC staff only: whose comment this is")

    class Meta:
        model = models.Comment
        fields = ["organisation", "theme", "section", "text"]


class CommentRespondForm(forms.Form):
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    disposition = forms.ChoiceField(choices=Disposition.choices, required=False)

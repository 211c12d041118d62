"""Forms of the slas app: measure targets, relief windows and the charges import upload.
They only parse; the writes are slas.services (which rebuild the rollups the change touches)."""
from django import forms

from portal.choices import ProviderCode, Region
from slas.models import Measure

LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MeasureTargetsForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["target_seconds", "target_pct", "minimum_pct", "weight"]
        labels = {"target_seconds": "Target time (seconds)", "target_pct": "Target service level %",
                  "minimum_pct": "Minimum service level %", "weight": "Credit weight"}


class ReliefEventForm(forms.Form):
    """Times are London wall-clock times (the portal's time zone); they are stored in UTC."""

    provider = forms.ChoiceField(choices=[c for c in ProviderCode.choices if c[0] != ProviderCode.E2E])
    region = forms.ChoiceField(choices=[("", "Every region"), *Region.choices], required=False)
    starts_at = forms.DateTimeField(label="From (London time)", widget=LOCAL_DATETIME)
    ends_at = forms.DateTimeField(label="To (London time)", widget=LOCAL_DATETIME)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The window must end after it starts.")
        return cleaned


class ChargesImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX with columns month,party,amount")

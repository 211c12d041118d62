"""Forms of the slas app: measure targets, relief windows and the charges import upload.
They only parse; the writes are slas.services (which rebuild the rollups the change touches)."""
from django import forms

from portal.choices import ProviderCode, Region
from portal.forms import LOCAL_DATETIME, WindowForm
from slas.models import Measure


class MeasureTargetsForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["target_seconds", "target_pct", "minimum_pct", "weight"]
        labels = {"target_seconds": "Target time (seconds)", "target_pct": "Target service level %",
                  "minimum_pct": "Minimum service level %", "weight": "Credit weight"}


class ReliefEventForm(WindowForm):
    """Times are London wall-clock times (the portal's time zone); they are stored in UTC."""

    provider = forms.ChoiceField(choices=[c for c in ProviderCode.choices if c[0] != ProviderCode.E2E])
    region = forms.ChoiceField(choices=[("", "Every region"), *Region.choices], required=False)
    starts_at = forms.DateTimeField(label="From (London time)", widget=LOCAL_DATETIME)
    ends_at = forms.DateTimeField(label="To (London time)", widget=LOCAL_DATETIME)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)



class ChargesImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX with columns month,party,amount")

"""Forms of the inventory pages: they parse input; services decide."""
from django import forms

from inventory.choices import ItemKind, ItemStatus, RelationshipKind, SMIStatus, SwitchState
from inventory.models import ConfigurationItem


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=SMIStatus.choices)
    reason = forms.CharField(max_length=300)


class BulkStatusForm(StatusForm):
    pass


class HubForm(forms.Form):
    hub_id = forms.CharField(required=False, label="Hub device id", help_text="Empty to leave the hub")


class SwitchForm(forms.Form):
    number = forms.IntegerField(min_value=1, max_value=5)
    description = forms.CharField(max_length=200, required=False)
    state = forms.ChoiceField(choices=SwitchState.choices)


class WithdrawForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX with columns device_id, device_type, manufacturer, model, "
                                     "firmware_version, status, supplier, mpxn, region, hub_id")


class ItemForm(forms.Form):
    key = forms.SlugField(max_length=64)
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ItemKind.choices)
    version = forms.CharField(max_length=40, required=False)
    status = forms.ChoiceField(choices=ItemStatus.choices)
    description = forms.CharField(widget=forms.Textarea, required=False)


class RelationshipForm(forms.Form):
    kind = forms.ChoiceField(choices=RelationshipKind.choices)
    target = forms.ModelChoiceField(queryset=ConfigurationItem.objects.all(), to_field_name="key")

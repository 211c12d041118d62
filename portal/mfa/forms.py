"""What the multi-factor pages post."""
from django import forms


class CodeForm(forms.Form):
    code = forms.CharField(max_length=32, strip=True, label="Code",
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                                         "autofocus": True, "spellcheck": "false"}))
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

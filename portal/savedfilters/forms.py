"""Forms of saved filters: the page, name and querystring to keep. They only parse; services write."""
from django import forms


class SavedFilterForm(forms.Form):
    page = forms.CharField(max_length=100)
    name = forms.CharField(max_length=80)
    querystring = forms.CharField(max_length=1000, required=False)
    next = forms.CharField(max_length=1200, required=False)

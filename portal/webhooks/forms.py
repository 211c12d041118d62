"""Forms of webhooks: an endpoint's name, URL and events. They only parse; services write."""
from django import forms

from portal.registry import webhook_event_choices
from portal.webhooks.urlguard import validate_endpoint_url


class WebhookEndpointForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https",
                         help_text="Where signed JSON is POSTed: a public http(s) address",
                         validators=[validate_endpoint_url])
    events = forms.MultipleChoiceField(choices=webhook_event_choices, widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

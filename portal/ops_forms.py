"""Forms of the portal's operations features: webhook endpoints, notification preferences,
saved filters. They only parse; services write."""
from django import forms

from portal.ops_choices import NotificationDelivery
from portal.registry import webhook_event_choices


class WebhookEndpointForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https",
                         help_text="Where signed JSON is POSTed")
    events = forms.MultipleChoiceField(choices=webhook_event_choices, widget=forms.CheckboxSelectMultiple)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class NotificationPreferenceForm(forms.Form):
    delivery = forms.ChoiceField(choices=NotificationDelivery.choices, widget=forms.RadioSelect,
                                 label="E-mail me")
    email = forms.BooleanField(required=False, label="Send e-mail as well as the in-app list")


class SavedFilterForm(forms.Form):
    page = forms.CharField(max_length=100)
    name = forms.CharField(max_length=80)
    querystring = forms.CharField(max_length=1000, required=False)
    next = forms.CharField(max_length=1200, required=False)

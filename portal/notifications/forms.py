"""Forms of notifications: a person's e-mail preference. They only parse; services write."""
from django import forms

from portal.notifications.choices import NotificationDelivery


class NotificationPreferenceForm(forms.Form):
    delivery = forms.ChoiceField(choices=NotificationDelivery.choices, widget=forms.RadioSelect,
                                 label="E-mail me")
    email = forms.BooleanField(required=False, label="Send e-mail as well as the in-app list")

"""Forms of the portal app: the account pages use Django's own auth forms, ApiTokenForm for API tokens;
an organisation administrator invites people with InviteForm. For every app's forms: LOCAL_DATETIME
and WindowForm, a time window typed in London wall-clock time."""
from django import forms
from django.conf import settings

from portal.choices import PortalRole

# The browser's date-and-time picker; the value is London wall-clock time (the portal's time zone).
LOCAL_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class WindowForm(forms.Form):
    """A form with a time window: the fields named by ``window`` (start, end) must end after they start."""

    window = ("starts_at", "ends_at")

    def clean(self):
        cleaned = super().clean()
        start, end = self.window
        if cleaned.get(start) and cleaned.get(end) and cleaned[end] <= cleaned[start]:
            self.add_error(end, "The window must end after it starts.")
        return cleaned


class ApiTokenForm(forms.Form):
    """What a person chooses when issuing themselves an API token."""

    name = forms.CharField(required=False, max_length=100, help_text="what you will use it for")
    read_only = forms.BooleanField(required=False, label="Read-only",
                                   help_text="may read (GET) but not create, change or delete anything")
    expires_in_days = forms.IntegerField(min_value=0, max_value=3660, required=False, label="Expires in (days)",
                                         help_text="0: never; empty: the portal's default")

    def clean_expires_in_days(self) -> int:
        days = self.cleaned_data.get("expires_in_days")
        return settings.API_TOKEN_DAYS if days is None else days

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_in_days"].initial = settings.API_TOKEN_DAYS



class InviteForm(forms.Form):
    email = forms.EmailField(max_length=150, help_text="The invitation goes here; it is also the username.")
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only the roles the administrator may give (portal.access.may_assign_role) are offered;
        # the service refuses any other, whatever is posted.
        self.fields["role"] = forms.ChoiceField(choices=[(name, PortalRole(name).label) for name in roles],
                                                initial=PortalRole.SERVICE_USER)


"""Forms of the portal app: the account pages use Django's own auth forms, ApiTokenForm for API tokens;
an organisation administrator invites people with InviteForm. For every app's forms: LOCAL_DATETIME
and WindowForm, a time window typed in London wall-clock time."""
import datetime as dt

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



# The browser's date picker; a day is a London calendar day.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Days before or after these are typing mistakes (and a day past 9999-12-30 has no end).
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)


class AuditFilterForm(forms.Form):
    """The audit log's filters: who did it (the actor), the kind of object, its id, and the London
    days from and to (both included). Every value is checked: an unknown person or object type, a
    malformed id or day is an error on its field, never a query."""

    actor = forms.ModelChoiceField(queryset=None, required=False, label="Person", empty_label="Anyone")
    model = forms.ChoiceField(required=False, label="Object type")
    object_pk = forms.CharField(required=False, max_length=64, label="Object id")
    since = forms.DateField(required=False, label="From", widget=DATE)
    until = forms.DateField(required=False, label="To", widget=DATE)

    def __init__(self, data=None, *, viewer, **kwargs):
        from auditlog.registry import auditlog

        from portal.audit import object_type_label
        from portal.models import User
        from portal.scoping import scope

        super().__init__(data, **kwargs)
        # Only the people the viewer may see are offered (and accepted).
        self.fields["actor"].queryset = scope(viewer, User).order_by("first_name", "last_name", "username")
        self.fields["actor"].label_from_instance = lambda person: person.get_full_name() or person.username
        types = sorted(((f"{m._meta.app_label}.{m._meta.model_name}", object_type_label(m))
                        for m in auditlog.get_models()), key=lambda choice: choice[1].lower())
        self.fields["model"].choices = [("", "Any"), *types]

    def clean_object_pk(self):
        value = self.cleaned_data.get("object_pk", "").strip()
        if value and not all(c.isalnum() or c in "-_." for c in value):
            raise forms.ValidationError("An object id is letters, digits, '-', '_' and '.' only.")
        return value

    def _day(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(f"Choose a day between {FIRST_DAY:%d %b %Y} and {LAST_DAY:%d %b %Y}.")
        return value

    def clean_since(self):
        return self._day("since")

    def clean_until(self):
        return self._day("until")

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The last day must not be before the first.")
        return cleaned

    def window(self):
        """(start, end) of the chosen days as moments: from the first day's London midnight to the
        midnight after the last day (a day at the clock change is 23 or 25 hours long)."""
        from django.utils import timezone

        zone = timezone.get_current_timezone()
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        start = dt.datetime.combine(since, dt.time(), tzinfo=zone) if since else None
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=zone) if until else None
        return start, end

"""Forms of the portal app: the account pages use Django's own auth forms; an organisation
administrator invites people with InviteForm."""
from django import forms

from portal.choices import PortalRole


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

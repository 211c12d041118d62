"""What in device commands needs multi-factor sign-in (registered with portal.mfa.policy in ready()).

A person needs it who may send a critical command: holds adapter.servicerequest.submit and their
organisation's DUIS roles include a role allowed to send some critical SRV of the catalogue (GBCS
critical commands: disabling supply, changing tariffs, ...). A supplier's staff whose organisation
has only roles that send no critical SRV (an export supplier, another user) are not forced. DCC staff
need it anyway (portal.mfa.policy)."""
from __future__ import annotations

from typing import Any

from portal.access import may


def critical_roles() -> set[str]:
    """The DUIS roles that may send at least one critical SRV."""
    from adapter.models import ServiceRequestVariant

    roles: set[str] = set()
    for allowed in ServiceRequestVariant.objects.filter(critical=True).values_list("roles", flat=True):
        roles.update(allowed or [])
    return roles


def may_send_critical(user: Any) -> bool:
    if not may(user, "adapter.servicerequest.submit"):
        return False
    organisation = user.organisation
    return bool(set(organisation.duis_roles or []) & critical_roles())

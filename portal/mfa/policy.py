"""Who must sign in with a second factor, and who has one.

Required (``mfa_required``) for:

- DCC staff (the "dcc" audience): they act on every device of the network;
- anyone holding a capability whose verb is ``approve`` in portal.access.CAPABILITIES (four eyes is
  worth nothing if the second pair of eyes is a stolen password): planned maintenance, and the
  service request, batch and certificate approvals as they are declared;
- whatever the feature apps register with ``register_requirement`` from their AppConfig.ready():
  the adapter registers "may send a critical command" (holds adapter.servicerequest.submit and the
  organisation's DUIS roles may send a critical SRV), which is how suppliers' operators come in.
  The ground never names a feature app; the app says what in it needs the second factor.

A person who is not required may still enrol (and is then asked for it at every sign-in).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal.access import CAPABILITIES, is_dcc

Requirement = Callable[[Any], bool]
REQUIREMENTS: dict[str, Requirement] = {}


def register_requirement(name: str, test: Requirement) -> None:
    """An app declares that people passing ``test(user)`` need multi-factor sign-in (``name`` says why)."""
    REQUIREMENTS[name] = test


def requirement_reasons(user: Any) -> list[str]:
    """Why the person needs multi-factor sign-in (empty: not required). The enrolment page shows them."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    reasons = []
    if is_dcc(user):
        reasons.append("DCC staff")
    approvals = sorted(name for name, entry in CAPABILITIES.items()
                       if name.rpartition(".")[2] == "approve" and entry.held_by(user))
    if approvals:
        reasons.append("may approve (" + ", ".join(approvals) + ")")
    reasons += [name for name, test in REQUIREMENTS.items() if test(user)]
    return reasons


def mfa_required(user: Any) -> bool:
    """Whether the person must pass a second factor before using the portal or getting an API token."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_dcc(user):
        return True  # the common case answered without walking the table
    return bool(requirement_reasons(user))


def has_mfa(user: Any) -> bool:
    """Whether the person has a confirmed second factor (an authenticator app or a passkey; recovery
    codes alone are not one: they are the way back in when the device is lost)."""
    from django_otp import devices_for_user
    from django_otp.plugins.otp_static.models import StaticDevice

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return any(not isinstance(device, StaticDevice) for device in devices_for_user(user, confirmed=True))

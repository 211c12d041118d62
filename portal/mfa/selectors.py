"""Reads of multi-factor sign-in that pages reuse."""
from __future__ import annotations

from typing import Any

from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from portal.mfa.policy import mfa_required


def mfa_summary(user: Any) -> dict[str, Any]:
    """What the account page shows: the person's second factors (not the recovery codes), how many
    recovery codes are left, and whether their role needs it."""
    devices = [device for device in devices_for_user(user, confirmed=True) if not isinstance(device, StaticDevice)]
    return {"devices": devices, "required": mfa_required(user),
            "recovery_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count()}

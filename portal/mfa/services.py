"""Writes of multi-factor sign-in: enrolment, recovery codes, verification, reset, and the token guard.

Every change to a person's second factors is written to the audit trail on the person (auditlog's
LogEntry, ``additional_data["mfa"]`` naming what happened), never the secrets themselves."""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.access import require
from portal.mfa.policy import has_mfa, mfa_required

if TYPE_CHECKING:
    from django.http import HttpRequest

    from portal.models import User

RECOVERY_CODES = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
# 10 characters of a 32-letter alphabet without look-alikes (no 0/O, 1/I/L): 50 bits each, typed by hand.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _audit(user: User, what: str, actor: Any, **extra: Any) -> None:
    LogEntry.objects.log_create(user, force_log=True, action=LogEntry.Action.UPDATE, actor=actor,
                                changes={"mfa": ["", what]}, additional_data={"mfa": what, **extra})


@transaction.atomic
def totp_enrol_begin(*, user: User) -> TOTPDevice:
    """A new authenticator-app secret for the person, unconfirmed until a code from it is given
    (``totp_enrol_confirm``). An earlier unconfirmed one is replaced: only the last QR code shown works."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_pending(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


@transaction.atomic
def totp_enrol_confirm(*, user: User, code: str, request: HttpRequest | None = None) -> TOTPDevice:
    """Confirm the pending authenticator app with a code it shows; the session (when given) is then
    verified. Raises ValidationError naming the field ``code`` when it does not match."""
    device = totp_pending(user=user)
    if device is None:
        raise ValidationError({"code": "Start again: there is no authenticator app waiting to be confirmed."})
    if not _clean(code).isdigit() or not device.verify_token(_clean(code)):
        raise ValidationError({"code": "That code does not match: type the 6 digits your app shows now."})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _audit(user, "totp_enrolled", user)
    if request is not None:
        otp_login(request, device)
    return device


def _clean(code: str) -> str:
    return "".join(str(code or "").split()).replace("-", "").upper()[:32]


@transaction.atomic
def recovery_codes_issue(*, user: User) -> list[str]:
    """New recovery codes for the person, returned this once (the old ones stop working). Each works
    once, in place of an authenticator code (django-otp's static tokens are deleted when used)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME,
                                                   defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    _audit(user, "recovery_codes_issued", user)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify_code(*, user: User, code: str, request: HttpRequest | None = None) -> Any:
    """Check a code from the person's authenticator app, or one of their recovery codes (used up by
    this), and mark the session verified. Raises ValidationError naming ``code`` when none matches.
    TOTP codes are refused a second time (django-otp keeps the last time step used), so a code seen
    over someone's shoulder cannot be replayed. Not one transaction: a failure's count towards the
    device's throttle must stay when the ValidationError is raised. A passkey's verify_token is always
    False (it answers a WebAuthn ceremony instead)."""
    token = _clean(code)
    if token and len(token) <= 10 and token.isalnum():
        for device in devices_for_user(user, confirmed=True):
            if isinstance(device, StaticDevice):
                if _recovery_code_use(device, token):
                    _audit(user, "recovery_code_used", user, left=recovery_codes_left(user=user))
                    if request is not None:
                        otp_login(request, device)
                    return device
            elif device.verify_token(token):
                if request is not None:
                    otp_login(request, device)
                return device
    raise ValidationError({"code": "That code does not match: type the code your authenticator app shows now, "
                                   "or one of your recovery codes."})


def _recovery_code_use(device: StaticDevice, token: str) -> bool:
    """Use up one recovery code. The DELETE is the test, so two requests racing with one code cannot
    both succeed (django-otp's own verify_token reads, then deletes). Failures count towards
    django-otp's throttle of the device, as for the app's codes."""
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return False
    deleted, _ = StaticToken.objects.filter(device=device, token=token).delete()
    if deleted:
        device.throttle_reset()
        return True
    device.throttle_increment()
    return False


@transaction.atomic
def mfa_reset(*, user: User, actor: User) -> int:
    """Remove every second factor of ``user`` (app, passkeys, recovery codes), e.g. after a lost phone:
    at the next sign-in the person enrols again. Only those who may (``portal.user.reset_mfa``) reset
    another person; the audit trail records who did it. Returns how many devices were removed."""
    require(actor, "portal.user.reset_mfa", user,
            message="You may not reset this person's multi-factor sign-in (portal.user.reset_mfa).")
    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    _audit(user, "mfa_reset", actor, devices=len(devices))
    return len(devices)


def require_for_token(user: User) -> None:
    """An API token goes only to a person who has multi-factor sign-in where it is required."""
    if mfa_required(user) and not has_mfa(user):
        raise PermissionDenied("Set up multi-factor sign-in (an authenticator app or a passkey) before an API "
                               "token can be issued to you.")

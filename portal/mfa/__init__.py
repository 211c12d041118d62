"""Multi-factor sign-in: a second factor after the password, through django-otp's devices.

- policy.py: who must have it (``mfa_required``: DCC staff, anyone holding an ``approve``
  capability, and what apps register, e.g. the adapter's "may send a critical command"), and
  whether a person has it (``has_mfa``)
- services.py: TOTP enrolment and confirmation, recovery codes (shown once, each usable once),
  code verification, ``mfa_reset`` (DCC administrators; the audit trail records it) and
  ``require_for_token`` (the guard where API tokens are issued)
- middleware.py: a session that has not passed the second factor of a person who needs one gets
  nothing but the sign-in, enrolment and verification pages (pages are redirected, the API answers 403)
- selectors.py: mfa_summary (the account page)
- views.py, urls.py, forms.py: /accounts/mfa/... (URL names without a namespace)

Devices are django-otp's: ``otp_totp.TOTPDevice`` (an authenticator app), ``otp_static.StaticDevice``
(the recovery codes) and ``django_otp_webauthn.WebAuthnCredential`` (a passkey, JS from the package's
static files). ``request.user.is_verified()`` (django_otp.middleware.OTPMiddleware) says whether the
session passed the second factor.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.models import User


def require_for_token(user: User) -> None:
    """Refuse (PermissionDenied) to issue an API token to a person who needs multi-factor sign-in and has
    not set it up: a token must not be a way around the second factor. Call it where a token is made."""
    from portal.mfa.services import require_for_token as check

    check(user)


def mfa_required(user: object) -> bool:
    from portal.mfa.policy import mfa_required as required

    return required(user)


def mfa_reset(*, user: User, actor: User) -> int:
    from portal.mfa.services import mfa_reset as reset

    return reset(user=user, actor=actor)

"""Writes of the portal app: organisations, people (and an organisation administrator's management
of its own), API and feed tokens, the record of sign-ins."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from auditlog.context import set_actor
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.access import may_assign_role, require
from portal.ids import normalise_eui64
from portal.mfa import require_for_token
from portal.models import ApiToken, FeedToken, Organisation, SignIn, User
from portal.writes import find_or_new, save_validated, upsert

if TYPE_CHECKING:
    from django.http import HttpRequest

    from portal.types import Actor


@transaction.atomic
def organisation_upsert(*, code: str, name: str, kind: str, provider_code: str = "", region: str = "",
                        duis_roles: Iterable[str] = (), user_id: str = "", actor: Actor = None) -> Organisation:
    """Create or update an organisation by its code (idempotent: demo loading and imports use it)."""
    with set_actor(actor):
        return upsert(Organisation, {"code": code}, name=name, kind=kind, provider_code=provider_code, region=region,
                      duis_roles=sorted(set(duis_roles)),
                      user_id=normalise_eui64(user_id, field="user_id") if user_id else "")


@transaction.atomic
def person_upsert(*, username: str, first_name: str, last_name: str, organisation: Organisation | None, role: str,
                  initials: str = "", email: str = "", password: str | None = None, is_staff: bool = False,
                  is_superuser: bool = False, actor: Actor = None) -> User:
    """Create or update a person by username. ``password=None`` leaves them without a login."""
    with set_actor(actor):
        user = find_or_new(User, {"username": username})
        user.role = role
        if password:
            user.set_password(password)
        elif not user.pk:
            user.set_unusable_password()
        return save_validated(user, exclude=["password"], first_name=first_name, last_name=last_name,
                              organisation=organisation, initials=initials, email=email or user.email,
                              is_staff=is_staff, is_superuser=is_superuser)


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``key`` is the token itself, here and nowhere else (only its digest is kept)."""

    token: ApiToken
    key: str


DEFAULT_EXPIRY: Final = "default"


def token_digest(key: str) -> str:
    """SHA-256 (hex) of an API token: what is stored and looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User, name: str = "", read_only: bool = False,
                    expires_at: dt.datetime | None | Literal["default"] = DEFAULT_EXPIRY,
                    replace: bool = False) -> IssuedToken:
    """Issue ``user`` a new API token and return it with its key, shown to them this once.

    The one place tokens are issued (account page, ``POST /api/v1/auth/token/``, tests), so a check
    that must come before any token (MFA) goes here. ``expires_at``: a time, ``None`` for never, or
    by default API_TOKEN_DAYS from now (never when that is 0). ``replace`` revokes the person's other
    tokens first, so they stop working at once."""
    require_for_token(user)
    now = timezone.now()
    if expires_at == DEFAULT_EXPIRY:
        days = settings.API_TOKEN_DAYS
        expires_at = now + dt.timedelta(days=days) if days else None
    elif expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "must be in the future"})
    if replace:
        ApiToken.objects.filter(user=user).delete()
    key = secrets.token_urlsafe(32)  # 256 bits: a digest of it cannot be reversed or guessed
    token = ApiToken(user=user, name=name, prefix=key[:8], digest=token_digest(key), read_only=read_only,
                     expires_at=expires_at, created_at=now)
    token.full_clean()
    token.save()
    return IssuedToken(token=token, key=key)


def api_token_get_or_create(*, user: User) -> IssuedToken:
    """Kept for callers from before tokens were hashed (tests, scripts): a stored token cannot be shown
    again, so this issues a new one (never expiring) each call, through api_token_issue."""
    return api_token_issue(user=user, name="issued by a script", expires_at=None)


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Revoke one of ``user``'s tokens (programs using it get 401 from now on); False if no such token."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)


def api_token_user(key: str, *, method: str) -> tuple[User, ApiToken]:
    """The active person and token an ``Authorization: Token`` key stands for, or AuthenticationFailed
    (401: unknown, expired, inactive) / PermissionDenied (403: a read-only token asked to write).

    Looked up by the digest of the key: the database compares digests, never secrets, and the digest of
    a wrong guess tells nothing about a right one; the last comparison is constant-time all the same."""
    from rest_framework import exceptions
    from rest_framework.permissions import SAFE_METHODS

    digest = token_digest(key) if key and len(key) <= 200 else ""
    found = ApiToken.objects.select_related("user").filter(digest=digest).first() if digest else None
    if found is None or not hmac.compare_digest(found.digest, digest):
        raise exceptions.AuthenticationFailed("Invalid token.")
    now = timezone.now()
    if found.expired(now):
        raise exceptions.AuthenticationFailed(
            f"This API token expired at {found.expires_at:%Y-%m-%d %H:%M} UTC: issue a new one.")
    if not found.user.is_active:
        raise exceptions.AuthenticationFailed("User inactive or deleted.")
    if found.read_only and method.upper() not in SAFE_METHODS:
        raise exceptions.PermissionDenied(
            f"This API token is read-only: it may read (GET, HEAD, OPTIONS) but not {method.upper()}. "
            "Use a token issued without read-only.")
    # At most one write a minute per token, not one per call.
    if found.last_used_at is None or now - found.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user, found


def _feed_digest(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def feed_token_issue(*, user: User) -> str:
    """Issue the person a new calendar-feed token and return it: the only time it is seen (only its
    digest is stored). A token issued before stops working at once."""
    import secrets

    token = secrets.token_urlsafe(32)
    FeedToken.objects.filter(user=user).delete()
    FeedToken.objects.create(user=user, digest=_feed_digest(token))
    return token


def feed_token_revoke(*, user: User) -> bool:
    """Revoke the person's feed token (calendar programs using it get the login page); False if none."""
    deleted, _ = FeedToken.objects.filter(user=user).delete()
    return bool(deleted)


def feed_token_user(token: str) -> User | None:
    """The active person a feed token belongs to, or None; notes when it was last used."""
    from django.utils import timezone

    if not token or len(token) > 200:
        return None
    found = FeedToken.objects.select_related("user").filter(digest=_feed_digest(token)).first()
    if found is None or not found.user.is_active:
        return None
    FeedToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    return found.user


# --- an organisation's own people (portal.user.manage_people) --------------------------------
# An organisation administrator invites, deactivates and reactivates the people of its own
# organisation and changes their role up to its own; every change is a User change, so
# django-auditlog writes it with the administrator as actor. ``may`` decides whom (never another
# organisation's people, DCC staff, a superuser or oneself); ``may_assign_role`` which roles.


class InviteTokens(PasswordResetTokenGenerator):
    """The one-time link of an invitation: valid until the person sets a password (the hash covers
    the password and the last sign-in, as Django's reset links do) or is deactivated, and for
    PASSWORD_RESET_TIMEOUT seconds (PORTAL_INVITE_HOURS) after it was sent."""

    key_salt = "portal.services.InviteTokens"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{int(user.is_active)}"


invite_tokens = InviteTokens()


def _require_manageable(actor: User, person: User) -> None:
    require(actor, "portal.user.manage_people", person,
            message="You may manage only the people of your own organisation (not yourself, not DCC staff).")


def _send_invitation(*, person: User, actor: User) -> None:
    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(person.pk))
    link = settings.SITE_URL.rstrip("/") + reverse("invite_accept", args=[uid, invite_tokens.make_token(person)])
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    organisation = person.organisation.name if person.organisation else "the portal"
    send_mail(
        subject="Your invitation to the DCC portal",
        message=(f"{actor.get_full_name() or actor.username} invited you to the DCC portal for {organisation}.\n\n"
                 f"Choose your password here (the link works once, for {hours} hours):\n{link}\n\n"
                 f"Your username is {person.username}.\n"),
        from_email=None, recipient_list=[person.email],
    )


@transaction.atomic
def person_invite(*, actor: User, email: str, first_name: str, last_name: str, role: str) -> User:
    """Invite a person to the administrator's own organisation: an account without a password,
    named by the e-mail address, and an e-mail with a one-time link to choose one."""
    from django.core.validators import validate_email

    require(actor, "portal.user.manage_people", message="Only an organisation administrator invites people.")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid e-mail address."}) from None
    if not may_assign_role(actor, role):
        raise ValidationError({"role": "You may give only the roles of your organisation up to your own."})
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise ValidationError({"email": "Someone with this e-mail address already has an account."})
    with set_actor(actor):
        person = User(username=email, email=email, organisation=actor.organisation)
        person.role = role
        person.set_unusable_password()
        try:
            save_validated(person, exclude=["password"], first_name=first_name.strip(), last_name=last_name.strip())
        except ValidationError as exc:
            # The username is the e-mail address: a refusal of the username is about the address.
            raise ValidationError({("email" if field == "username" else field): messages
                                   for field, messages in exc.message_dict.items()}) from None
    _send_invitation(person=person, actor=actor)
    return person


@transaction.atomic
def person_invite_resend(*, actor: User, person: User) -> None:
    """Send the invitation again to someone who has not chosen a password yet (a new link; an
    audit entry says who sent it)."""
    _require_manageable(actor, person)
    if person.has_usable_password():
        raise ValidationError("This person has already chosen a password.")
    if not person.is_active:
        raise ValidationError("Reactivate this person before inviting them again.")
    _audit(person, actor, "invitation sent again")
    _send_invitation(person=person, actor=actor)


def invite_person(uidb64: str, token: str) -> User | None:
    """The active person an invitation link names, while the link holds; None otherwise."""
    from django.utils.encoding import force_str
    from django.utils.http import urlsafe_base64_decode

    try:
        person = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    if not person.is_active or not invite_tokens.check_token(person, token):
        return None
    return person


@transaction.atomic
def invite_password_set(*, person: User, password: str) -> User:
    """The invited person's chosen password (already checked by the password validators); the
    link stops working, since its hash covered the unusable password."""
    person.set_password(password)
    person.save(update_fields=["password"])
    return person


@transaction.atomic
def person_set_active(*, actor: User, person: User, active: bool) -> User:
    """Deactivate (cannot sign in, API token refused, sessions end at their next request) or
    reactivate a person of one's organisation."""
    _require_manageable(actor, person)
    with set_actor(actor):
        return save_validated(person, exclude=["password"], is_active=active)


@transaction.atomic
def person_role_set(*, actor: User, person: User, new_role: str) -> User:
    """Give a person of one's organisation another role, up to one's own (never a DCC role)."""
    _require_manageable(actor, person)
    if not may_assign_role(actor, new_role):
        raise ValidationError({"role": "You may give only the roles of your organisation up to your own."})
    person.role = new_role
    with set_actor(actor):
        return save_validated(person, exclude=["password"])


def _audit(person: User, actor: User | None, what: str) -> None:
    # An event of a person that changes none of its fields (an invitation resent, the second
    # factor reset) still goes in the person's audit trail, as a change note with the actor.
    from auditlog.models import LogEntry

    LogEntry.objects.log_create(person, force_log=True, action=LogEntry.Action.UPDATE, actor=actor,
                                changes={"account": ["", what]})


@transaction.atomic
def person_mfa_reset(*, actor: User, person: User) -> int:
    """An organisation administrator resets one of its people's multi-factor sign-in (lost phone):
    the person enrols again at the next sign-in. The check of who may manage whom comes first, then
    portal.mfa's own reset (its capability, its audit entry). Answers how many devices were removed."""
    from portal.mfa import mfa_reset

    _require_manageable(actor, person)
    return mfa_reset(user=person, actor=actor)


@transaction.atomic
def sso_person_create(*, email: str, first_name: str = "", last_name: str = "") -> User:
    """An account for an identity single sign-on let in as DCC staff (portal.sso, only with
    PORTAL_OIDC_CREATE_USERS): DCC operations in DCC's organisation, no password, never an
    administrator (a person makes a DCC administrator in the portal)."""
    from portal.choices import OrganisationKind, PortalRole

    dcc = Organisation.objects.filter(kind=OrganisationKind.DCC).order_by("pk").first()
    if dcc is None:
        raise ValidationError("There is no DCC organisation to file single sign-on accounts under.")
    email = email.strip().lower()
    person = User(username=email, email=email, organisation=dcc)
    person.role = PortalRole.DCC_OPERATIONS
    person.set_unusable_password()
    return save_validated(person, exclude=["password"], first_name=first_name[:150], last_name=last_name[:150])


# --- sign-ins ---------------------------------------------------------------------------------


def _client_address(request: HttpRequest | None) -> str | None:
    import ipaddress

    from portal.clientip import client_address

    # The same address the lock-out and the throttles count (PORTAL_TRUSTED_PROXIES), never a
    # header a client wrote.
    raw = (client_address(request) or "") if request is not None else ""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def sign_in_record(*, request: HttpRequest | None, outcome: str, username: str, user: User | None = None,
                   method: str = "password") -> SignIn:
    """Keep one sign-in or failure (the auth signals call it: portal.apps). A failure is filed
    under the person whose username was typed, so they can see attempts on their account."""
    username = (username or "")[:150]
    if user is None and username:
        user = User.objects.filter(username__iexact=username).first()
    agent = (request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300]
    return SignIn.objects.create(user=user, username=username or (user.username if user else ""),
                                 outcome=outcome, address=_client_address(request), user_agent=agent,
                                 method=method)


def sign_ins_purge() -> int:
    """Delete sign-in records older than PORTAL_SIGN_IN_KEEP_DAYS (the nightly schedule); answers
    how many went. A year by default: long enough to look back on an incident, not kept for ever."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    cutoff = timezone.now() - timedelta(days=settings.PORTAL_SIGN_IN_KEEP_DAYS)
    deleted, _ = SignIn.objects.filter(at__lt=cutoff).delete()
    return deleted

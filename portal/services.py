"""Writes of the portal app: organisations, people and API tokens."""
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
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.ids import normalise_eui64
from portal.mfa import require_for_token
from portal.models import ApiToken, FeedToken, Organisation, User
from portal.writes import find_or_new, save_validated, upsert

if TYPE_CHECKING:
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

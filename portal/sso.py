"""Single sign-on for DCC staff by OpenID Connect (mozilla-django-oidc), off unless configured.

Who gets in, the whole rule (README "Single sign-on"):

- The identity provider's ID token must verify: RS256 signed by a key of its JWKS, ``iss`` the
  configured issuer, ``aud`` our client id, not expired, the ``nonce`` and ``state`` of this
  browser's own sign-in (the callback view checks the state, the backend the nonce), PKCE on.
- The identity must be DCC staff by a rule of ours: its e-mail is verified and in one of
  ``PORTAL_OIDC_DCC_EMAIL_DOMAINS``, or its groups claim (``PORTAL_OIDC_GROUPS_CLAIM``) names one
  of ``PORTAL_OIDC_DCC_GROUPS``. Neither configured: nobody.
- It signs in the one active DCC account (DCC operations or administrator, in the portal) with
  that e-mail. A service user's, SDAG member's or inactive account with the same e-mail is refused:
  SSO never signs in a supplier. With ``PORTAL_OIDC_CREATE_USERS`` on, an allowed identity with no
  account gets one as DCC operations in DCC's organisation; otherwise it is refused.
- Claims never change a role: a DCC administrator is made one in the portal, by a person.

The provider's endpoints come from the environment, or, where not given, from the issuer's
discovery document (``<issuer>/.well-known/openid-configuration``), read once per process.
"""
from __future__ import annotations

import logging
from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.shortcuts import redirect
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from portal import access

log = logging.getLogger(__name__)

ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovered: dict[str, dict[str, Any]] = {}


def enabled() -> bool:
    """Whether single sign-on is configured (a client id and an issuer)."""
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", "") and getattr(settings, "OIDC_OP_ISSUER", ""))


def _discovery(issuer: str) -> dict[str, Any]:
    import requests

    if issuer not in _discovered:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, allow_redirects=False)
        response.raise_for_status()
        document = response.json()
        # The document must be the issuer's own (OpenID Connect Discovery 1.0, section 4.3).
        if document.get("issuer") != issuer:
            raise ImproperlyConfigured(f"OIDC discovery at {url} names issuer {document.get('issuer')!r}, "
                                       f"not OIDC_OP_ISSUER={issuer!r}")
        _discovered[issuer] = document
    return _discovered[issuer]


def setting(attr: str, *default: Any) -> Any:
    """A mozilla-django-oidc setting: from settings, an endpoint from discovery when not given,
    and empty while single sign-on is off (so its views and backend can be built and refuse)."""
    value = getattr(settings, attr, None)
    if value:
        return value
    if attr in ENDPOINTS:
        if not enabled():
            return ""
        return _discovery(settings.OIDC_OP_ISSUER).get(ENDPOINTS[attr], "")
    return import_from_settings(attr, *default)


class DccOidcBackend(OIDCAuthenticationBackend):
    """Signs in DCC staff by the rule of this module's docstring; never anyone else."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return setting(attr, *args)

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        # Only the callback of a sign-in this browser started (it passes the nonce): a code and
        # state put on any other page (the password login) are not exchanged.
        if (not enabled() or request is None or kwargs.get("nonce") is None
                or request.path != reverse("oidc_authentication_callback")):
            return None
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload: Any, key: Any) -> dict[str, Any]:
        # mozilla-django-oidc checks neither audience nor issuer; an ID token for another client
        # of the same provider, or from another issuer, must not sign anyone in here.
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("The ID token's algorithm is not the configured one.")
        try:
            return jwt.decode(payload, key, algorithms=[self.OIDC_RP_SIGN_ALGO], audience=self.OIDC_RP_CLIENT_ID,
                              issuer=settings.OIDC_OP_ISSUER,
                              options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"The ID token does not verify: {exc}") from None

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        # The signed ID token's claims count; the user info endpoint may add claims about the same
        # subject only (OpenID Connect Core 5.3.2: its sub must equal the token's).
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            extra = super().get_userinfo(access_token, id_token, payload)
            if extra.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The user info is about another subject than the ID token.")
            claims = {**extra, **payload}
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        email = str(claims.get("email") or "").strip().lower()
        domains = {domain.lower().lstrip("@") for domain in settings.PORTAL_OIDC_DCC_EMAIL_DOMAINS}
        by_domain = (bool(email) and claims.get("email_verified") is True
                     and email.rpartition("@")[2] in domains)
        groups = claims.get(settings.PORTAL_OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        by_group = bool(email) and bool(set(map(str, groups)) & set(settings.PORTAL_OIDC_DCC_GROUPS))
        if not (by_domain or by_group):
            log.warning("single sign-on refused for %s: not DCC staff by the configured rule", email or "no e-mail")
        return by_domain or by_group

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        email = str(claims.get("email") or "").strip()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        # The one account with this e-mail must be an active DCC account: a supplier's account
        # with a DCC-looking e-mail is never signed in by single sign-on. Nothing is copied from
        # the claims (no role, no name): the portal's own record stands.
        if not access.is_dcc(user):
            raise SuspiciousOperation("single sign-on is for active DCC staff accounts only")
        return user

    def create_user(self, claims: dict[str, Any]) -> Any:
        if not settings.PORTAL_OIDC_CREATE_USERS:
            return None
        from portal import services

        return services.sso_person_create(email=str(claims["email"]), first_name=str(claims.get("given_name", "")),
                                          last_name=str(claims.get("family_name", "")))


class PortalSso:
    """What both single sign-on views add to mozilla-django-oidc's: the portal's settings
    (``setting``), and the login page while single sign-on is off."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return setting(attr, *args)

    def get(self, request: Any) -> Any:
        if not enabled():
            return redirect("login")
        return super().get(request)  # type: ignore[misc]


class SsoStart(PortalSso, OIDCAuthenticationRequestView):
    """Start single sign-on (redirect to the provider); the login page when it is off."""


class SsoCallback(PortalSso, OIDCAuthenticationCallbackView):
    """The provider sends the browser back here with a code and the state."""

"""Receivers of Django's sign-in signals: they only hand the facts to portal.services
(connected in PortalConfig.ready)."""
from __future__ import annotations

from typing import Any

from portal.choices import SignInOutcome


def signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from portal import services

    # The single sign-on backend marks its own logins, so the record says how the person came in.
    backend = getattr(user, "backend", "") or ""
    method = "sso" if "oidc" in backend.lower() else "password"
    services.sign_in_record(request=request, outcome=SignInOutcome.SUCCEEDED, username=user.get_username(),
                            user=user, method=method)


def sign_in_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    from portal import services

    # Django passes the credentials with the password already masked; only the username is kept.
    path = getattr(request, "path", "") or ""
    # Single sign-on's callback authenticates with the nonce of its own sign-in (portal.sso).
    method = "sso" if "nonce" in credentials else ("api_token" if path.startswith("/api/") else "password")
    services.sign_in_record(request=request, outcome=SignInOutcome.FAILED,
                            username=str(credentials.get("username") or ""), method=method)

"""A session that has not passed the second factor of a person who needs one reaches nothing else.

Runs after django-otp's OTPMiddleware (``request.user.is_verified()``). Let through: static files,
signing in and out, the multi-factor pages themselves and the passkey ceremony's endpoints. Pages
are redirected to verification (the person has a device) or enrolment (none yet), keeping ``next``;
the API answers 403 problem JSON, so a half-signed-in browser session is no way into the API either.
A request without a session user (an API token, a feed token) is not this middleware's business:
tokens are only issued to people who have multi-factor sign-in where it is required."""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from portal.mfa.policy import has_mfa, mfa_required

_OPEN_NAMES = ("login", "logout", "mfa_verify", "mfa_enrol", "mfa_enrolled")


class MFARequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _open(self, path: str) -> bool:
        static = settings.STATIC_URL or "/static/"
        if path.startswith(static if static.startswith("/") else "/" + static):
            return True
        if path.startswith(reverse("otp_webauthn:credential-authentication-begin").rsplit("/", 3)[0] + "/"):
            return True  # the passkey ceremonies (the library's views check the session themselves)
        return path in {reverse(name) for name in _OPEN_NAMES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is None or not user.is_authenticated or user.is_verified()  # type: ignore[attr-defined]
                or self._open(request.path)):
            return self.get_response(request)
        enrolled = has_mfa(user)
        if not enrolled and not mfa_required(user):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            from portal.views import _problem_response

            return _problem_response(request, 403, "This session has not passed multi-factor sign-in: "
                                     "verify it in the portal first, or use an API token.")
        target = reverse("mfa_verify" if enrolled else "mfa_enrol")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")

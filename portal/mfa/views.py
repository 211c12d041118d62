"""The multi-factor pages: enrol (an authenticator app or a passkey), verify a session, recovery codes.

Open to a session that has signed in with its password but not yet passed the second factor (the
middleware lets exactly these through). Recovery codes are rendered in the answer to the POST that
made them, never redirected to, so they pass through no session or URL and are seen once."""
from __future__ import annotations

from base64 import b32encode
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from portal.errors import errors_to_form
from portal.generic import POST, view_of
from portal.mfa import services
from portal.mfa.forms import CodeForm
from portal.mfa.policy import has_mfa, requirement_reasons
from portal.models import User

GET_POST = ("GET", "POST")


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return "/"


def _to(name: str, request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': _next(request)})}")


def _has_passkey(user: User) -> bool:
    from django_otp_webauthn.models import WebAuthnCredential

    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def _codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    response = render(request, "mfa/recovery_codes.html", {"codes": codes, "next": _next(request)})
    response["Cache-Control"] = "no-store"
    return response


def _code_form(request: HttpRequest, check: Callable[..., Any]) -> tuple[CodeForm, bool]:
    """The page's code form, and whether ``check`` (a service: the person, the posted code and the
    request) accepted the code; a refused code's message stands beside the field."""
    form = CodeForm(request.POST or None, initial={"next": _next(request)})
    if request.method == "POST" and form.is_valid():
        try:
            check(user=request.user, code=form.cleaned_data["code"], request=request)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            return form, True
    return form, False


@view_of(User, "portal.user.manage_own", methods=GET_POST)
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app (scan, then type a code) or a passkey. A person who already has one
    must verify this session first (else a stolen password could add the thief's own device)."""
    user = request.user
    if has_mfa(user) and not user.is_verified():  # type: ignore[union-attr]
        return _to("mfa_verify", request)
    form, accepted = _code_form(request, services.totp_enrol_confirm)
    if accepted:
        if services.recovery_codes_left(user=user):
            return redirect(_next(request))
        return _codes_page(request, services.recovery_codes_issue(user=user))
    device = services.totp_pending(user=user) or services.totp_enrol_begin(user=user)
    import segno  # the QR code as an SVG data URI: no script, no other host (img-src allows data:)

    uri = device.config_url
    response = render(request, "mfa/enrol.html", {
        "form": form, "secret": b32encode(device.bin_key).decode(), "qr": segno.make(uri).svg_data_uri(scale=4),
        "reasons": requirement_reasons(user), "next": _next(request), "has_mfa": has_mfa(user),
    })
    response["Cache-Control"] = "no-store"  # the page shows the secret
    return response


@view_of(User, "portal.user.manage_own", methods=GET_POST)
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app, a recovery code, or the passkey."""
    user = request.user
    if not has_mfa(user):
        return _to("mfa_enrol", request)
    if user.is_verified():  # type: ignore[union-attr]
        return redirect(_next(request))
    form, accepted = _code_form(request, services.verify_code)
    if accepted:
        return redirect(_next(request))
    return render(request, "mfa/verify.html", {"form": form, "next": _next(request),
                                               "passkey": _has_passkey(user)})


@view_of(User, "portal.user.manage_own", methods=POST)
def mfa_enrolled(request: HttpRequest) -> HttpResponse:
    """Where the page goes once a passkey was registered (static/js/mfa.js posts here): the first
    second factor brings the recovery codes, shown this once."""
    if not request.user.is_verified():  # type: ignore[union-attr]
        return _to("mfa_verify", request)
    if services.recovery_codes_left(user=request.user):
        return redirect(_next(request))
    return _codes_page(request, services.recovery_codes_issue(user=request.user))


@view_of(User, "portal.user.manage_own", methods=POST)
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), from the account page of a verified session."""
    if not request.user.is_verified():  # type: ignore[union-attr]
        return _to("mfa_verify", request)
    return _codes_page(request, services.recovery_codes_issue(user=request.user))

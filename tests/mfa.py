"""Multi-factor sign-in for the tests: fixture people are enrolled with an authenticator app, and a
logged-in test client gets a session that has passed the second factor, as a person's would after
typing a code. Production code is untouched: these helpers make the same rows and the same session
key that enrolment and django_otp.login make.

- enrol(user): the person's confirmed TOTP device (made once)
- totp_code(device): the code the app would show now (RFC 6238 arithmetic, written out here, not the
  library's own code path, so a test of verification checks the library against the standard)
- verified_login(client, user): force_login, then mark the session verified with the person's device
- one_code(user): a fresh recovery code, for the API token path (usable once, never a replay)
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
import time


def enrol(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def totp_code(device, at: float | None = None, digits: int = 6) -> str:
    counter = int(((at if at is not None else time.time()) - device.t0) // device.step)
    digest = hmac.new(device.bin_key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def fresh_totp_code(device) -> str:
    """A code of a time step the device has not used yet (django-otp refuses a step twice): waits
    for the next step when this one was used already."""
    device.refresh_from_db()
    while int((time.time() - device.t0) // device.step) <= device.last_t:
        time.sleep(0.2)
    return totp_code(device)


def verified_login(client, user):
    from django_otp import DEVICE_ID_SESSION_KEY

    device = enrol(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def one_code(user) -> str:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device, _ = StaticDevice.objects.get_or_create(user=user, name="Test codes", defaults={"confirmed": True})
    token = secrets.token_hex(4).upper()
    StaticToken.objects.create(device=device, token=token)
    return token


# --- portals served in their own processes (gunicorn): the test cannot reach into their sessions,
# so the people get recovery codes the test knows, and sign in through the MFA page with them.

SERVED_CODES = 50
_served_used: dict[str, int] = {}


def served_code(username: str, number: int) -> str:
    # Recovery codes are at most 10 letters and digits (portal.mfa.services.verify_code).
    return ("".join(c for c in username if c.isalnum())[:6] + f"{number:04d}").upper()


def seed_served_codes(user) -> None:
    """Enrol ``user`` (an authenticator app, whose codes such a test never computes: recovery codes
    alone are not a second factor) and give them SERVED_CODES recovery codes the test knows. Called
    in the served portal's own shell."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    enrol(user)
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Served test codes", defaults={"confirmed": True})
    StaticToken.objects.bulk_create(StaticToken(device=device, token=served_code(user.username, n))
                                    for n in range(SERVED_CODES))


def next_served_code(username: str) -> str:
    _served_used[username] = _served_used.get(username, -1) + 1
    return served_code(username, _served_used[username])


def served_second_factor(session, base: str, username: str, timeout: float = 10) -> None:
    """After the password step on a served portal: the MFA page, with the next known code."""
    import re

    page = session.get(base + "/accounts/mfa/", timeout=timeout)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(base + "/accounts/mfa/", timeout=timeout, allow_redirects=False,
                            headers={"Referer": base + "/"},
                            data={"csrfmiddlewaretoken": csrf, "code": next_served_code(username)})
    assert response.status_code == 302 and "/accounts/mfa/" not in response.headers.get("Location", ""), \
        f"the second factor of {username} was refused ({response.status_code})"

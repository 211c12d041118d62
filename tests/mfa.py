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

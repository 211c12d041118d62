"""Settings for the test suite: the real settings, with tasks run synchronously,
fast password hashing, e-mail kept in memory and rate limits out of the way
(the tests that check throttling switch them on again)."""
import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-the-deploy-check-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("EMAIL_URL", "locmem://")

from config.settings import *  # noqa: E402,F403

Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = False
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"}}  # noqa: F405
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
VALIDATE_EVENT_PAYLOADS = True  # every publish matches its registered payload schema (portal.eventschema)
STRICT_EVENTS = True  # publishing an unregistered event fails the test (portal.events)
# The webhook tests run receivers on 127.0.0.1 (tests/portal/receiver.py). Set here, after the
# settings were read, because DEBUG is off in the tests and settings.py refuses the variable
# then (production must never have it); tests/portal/test_webhook_ssrf.py turns it off to check
# the production policy.
WEBHOOK_ALLOW_LOOPBACK = True
# Many tests log in, then travel in time by hours or days (time-machine) to see clocks and deadlines
# move: the 30-minute idle expiry would sign them out. tests/portal/test_sign_ins.py sets the real
# idle period back to test it.
# Nor is the session saved at every request: a request made while travelling to the past would
# date its expiry back there.
SESSION_COOKIE_AGE = 60 * 24 * 3600
SESSION_SAVE_EVERY_REQUEST = False

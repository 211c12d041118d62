"""Signing of critical pre-commands. The portal has no user's private key: the ``Signer`` interface
lets a real signing service replace the simulated one (HMAC-SHA256 with a key derived per user)."""
import hashlib
import hmac

from django.conf import settings
from django.utils.module_loading import import_string


class Signer:
    """Signs a pre-command on behalf of a user and checks a signature."""

    name = "base"

    def sign(self, *, user_key, payload):
        raise NotImplementedError

    def verify(self, *, user_key, payload, signature):
        return hmac.compare_digest(self.sign(user_key=user_key, payload=payload), signature or "")


class SimulatedSigner(Signer):
    """HMAC-SHA256 with a per-user key derived from the site secret: stands in for the user's
    XML signature so that the two-step flow can be recorded and checked end to end."""

    name = "simulated-hmac"

    def _key(self, user_key):
        return hmac.new(settings.SECRET_KEY.encode(), f"adapter-signing:{user_key}".encode(), hashlib.sha256).digest()

    def sign(self, *, user_key, payload):
        return hmac.new(self._key(user_key), payload.encode("utf-8"), hashlib.sha256).hexdigest()


def get_signer():
    path = getattr(settings, "ADAPTER_SIGNER", "adapter.signing.SimulatedSigner")
    return import_string(path)()

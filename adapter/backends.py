"""Backends carry a request to the network and report what happened, behind one base class and
one error type. ``get_backend()`` picks the one named by settings.ADAPTER_BACKEND.

* ``simulator``: the in-process device simulator (adapter.simulator, adapter.alcs).
* ``duis``: DUIS XML over HTTP to settings.ADAPTER_DUIS_URL, with timeouts, retries with back-off
  on transport errors and a circuit breaker. All network I/O goes through ``transport()``.
"""
import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.utils import timezone

from adapter import duis, simulator

log = logging.getLogger(__name__)


class BackendError(Exception):
    """The request could not be handed over (transport failure, circuit open, bad answer).
    The attempt is lost; the dispatcher retries it as a new attempt or fails it with E20."""

    final = False  # True: sending again cannot help (the dispatcher fails the request at once)


class SignatureRefused(BackendError):
    """A DUIS signature problem: the portal may not or cannot sign the request (originator has not
    delegated message signing, no key), or the head-end's response is not signed by the head-end's
    registered certificate (unsigned, tampered, unknown, expired, revoked). Final: a resend would
    repeat the command to the device, and an untrusted answer is never taken as the response."""

    final = True


class Backend:
    name = "base"

    def send(self, request, *, attempt):
        """Hand ``request`` over; return a simulator.Outcome (final, or I99 acknowledged)."""
        raise NotImplementedError

    def collect(self, request, *, now):
        """For an acknowledged future-dated request, the device's response once it is due
        (an Outcome) or None while still waiting."""
        return None

    def flush(self):
        """End of a chunk: write whatever the backend kept in memory."""


def _send_log(request, attempt, backend):
    # A witness of every hand-over, for the crash test: one line per (request, attempt) sent.
    path = settings.ADAPTER_SEND_LOG
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{request.request_id} {attempt} {backend}\n")


class SimulatorBackend(Backend):
    name = "simulator"

    def __init__(self):
        from adapter import alcs

        self.devices = alcs.Devices()

    def flush(self):
        self.devices.flush()

    def send(self, request, *, attempt):
        _check_signature(request)
        sleep = float(simulator.PROFILE.get("send_sleep") or 0)
        if sleep:
            time.sleep(sleep)
        _send_log(request, attempt, self.name)
        start = max(timezone.now(), request.received_at or timezone.now())
        outcome = simulator.simulate(
            srv_code=request.srv.code, non_device=request.srv.non_device, region=request.region, start=start,
            execute_at=request.execute_at, device_holds=bool(request.execute_at and request.srv.device_holds_future),
        )
        if outcome.code == "I0" and request.device_id and request.srv.code.startswith(("7.", "6.14")):
            from adapter import alcs

            alcs.apply_request(request, at=start, devices=self.devices)
        return outcome

    def collect(self, request, *, now):
        if request.execute_at is None or request.execute_at > now:
            return None
        times = {"dsp_sent_at": request.dsp_sent_at, "wan_delivered_at": request.wan_delivered_at}
        return simulator.respond(srv_code=request.srv.code, region=request.region, times=times,
                                 at=max(request.execute_at, request.wan_delivered_at or request.execute_at))


def _check_signature(request):
    """The last gate before the network: a critical request goes out only with a signature of its
    pre-command that verifies now against its organisation's approved certificate (a certificate
    revoked since the signing stops it too). Whatever queued the request, nothing unsigned is sent."""
    if not request.srv.critical:
        return
    from django.core.exceptions import ValidationError

    from adapter import signing

    try:
        certificate = request.signature and request.precommand and signing.verifying_certificate(
            organisation=request.organisation, precommand=request.precommand, signature=request.signature,
            when=timezone.now())
    except ValidationError:
        certificate = None
    if not certificate:
        raise BackendError(f"{request.request_id}: critical request without a valid signature of its pre-command")


# --- DUIS over HTTP -----------------------------------------------------------------------------

class TransportError(Exception):
    """No usable HTTP answer (connection refused, timeout, 5xx)."""


def transport(url, body, *, timeout, headers=None):
    """The one function that touches the network: POST ``body`` (the signed bytes, sent as they are)
    and return (status, headers, body bytes: verified as received, never decoded and re-encoded)."""
    import requests

    try:
        response = requests.post(url, data=body if isinstance(body, bytes) else body.encode("utf-8"), timeout=timeout,
                                 headers={"Content-Type": "application/xml", **(headers or {})})
    except requests.RequestException as exc:
        raise TransportError(f"{exc.__class__.__name__}: {exc}") from None
    if response.status_code >= 500:
        raise TransportError(f"head-end answered HTTP {response.status_code}")
    return response.status_code, dict(response.headers), response.content


class CircuitBreaker:
    """After ``threshold`` consecutive failures, refuse calls for ``cooldown`` seconds so that a
    dead head-end is not hammered; one trial call is let through after the cool-down."""

    def __init__(self, threshold=5, cooldown=30.0):
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at = None
        self.lock = threading.Lock()

    def allow(self):
        with self.lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at >= self.cooldown:
                self.opened_at = None  # half-open: let one call try
                self.failures = self.threshold - 1
                return True
            return False

    def record(self, ok):
        with self.lock:
            if ok:
                self.failures = 0
                self.opened_at = None
            else:
                self.failures += 1
                if self.failures >= self.threshold:
                    self.opened_at = time.monotonic()

    @property
    def is_open(self):
        return self.opened_at is not None


TIME_HEADERS = {
    "X-DCC-DSP-Sent-At": "dsp_sent_at",
    "X-DCC-WAN-Delivered-At": "wan_delivered_at",
    "X-DCC-Device-Responded-At": "device_responded_at",
    "X-DCC-WAN-Returned-At": "wan_returned_at",
    "X-DCC-Responded-At": "responded_at",
}
# An error's explanation: DUIS responses carry only the E-code, so the head-end simulator adds one here.
MESSAGE_HEADER = "X-DCC-Message"


class DuisBackend(Backend):
    name = "duis"
    breaker = CircuitBreaker()

    def __init__(self, url=None, *, timeout=5.0, retries=3, backoff=0.2):
        self.url = url or settings.ADAPTER_DUIS_URL
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def render(self, request):
        """The signed DUIS document to send (bytes, sent as they are): the one the organisation
        signed itself and posted, else one the portal signs with the key store's key for the
        originator, only when the portal may sign for it (adapter.selectors.may_sign_for)."""
        from adapter import xmlsig
        from adapter.keystore import KeyStoreError, get_keystore
        from adapter.models import SignedDuisDocument
        from adapter.selectors import may_sign_for

        stored = SignedDuisDocument.objects.filter(request_id=request.pk).only("document").first()
        if stored is not None:
            return bytes(stored.document)
        originator = duis.split_request_id(request.request_id)["originatorId"]
        if not may_sign_for(originator):
            raise SignatureRefused(
                f"not signed: {originator} has not delegated DUIS message signing to the portal, so the portal "
                "does not sign for it; post the DUIS document signed with its own key (API: signed-document)")
        try:
            store = get_keystore()
            key, certificate = store.private_key(originator), store.certificate(originator)
        except KeyStoreError as exc:
            raise SignatureRefused(f"not signed: {exc}") from None
        document = duis.render_request(
            request_id=request.request_id, srv_code=request.srv.code, srv_name=request.srv.name,
            params=request.params, execute_at=request.execute_at, critical=request.srv.critical,
            non_device=request.srv.non_device, signature=request.signature,
        )
        return xmlsig.sign_document(document, key, certificate)

    def send(self, request, *, attempt):
        _check_signature(request)
        body = self.render(request)
        headers = {"X-DCC-Region": request.region or "", "X-DCC-Attempt": str(attempt)}
        last = None
        for number in range(self.retries):
            if not self.breaker.allow():
                raise BackendError("circuit open: the head-end failed repeatedly; calls paused")
            try:
                status, answer_headers, text = transport(self.url, body, timeout=self.timeout, headers=headers)
            except TransportError as exc:
                self.breaker.record(False)
                last = exc
                time.sleep(self.backoff * (2 ** number))
                continue
            self.breaker.record(True)
            _send_log(request, attempt, self.name)
            return self._outcome(status, answer_headers, text)
        raise BackendError(f"head-end unreachable after {self.retries} tries: {last}")

    def collect(self, request, *, now):
        """Ask the head-end for the response of a request the device held (Device pattern);
        None while it has not executed yet or the head-end cannot be reached (asked again later)."""
        from urllib.parse import quote

        import requests as http

        if request.execute_at is None or request.execute_at > now or not self.breaker.allow():
            return None
        url = f"{self.url.rstrip('/')}/responses/{quote(request.request_id)}"
        try:
            answer = http.get(url, params={"at": now.isoformat()}, timeout=self.timeout)
        except http.RequestException as exc:
            self.breaker.record(False)
            log.warning("collecting %s failed: %s", request.request_id, exc)
            return None
        self.breaker.record(answer.status_code < 500)
        if answer.status_code != 200:
            return None
        try:
            return self._outcome(answer.status_code, dict(answer.headers), answer.content)
        except BackendError as exc:
            # left "sent", not responded: asked again later, then timed out (E30) if never trusted
            log.warning("collecting %s: %s", request.request_id, exc)
            return None

    def _outcome(self, status, headers, text):
        from adapter import xmlsig

        # Only what the head-end's registered certificate signed is read (the signed part, not
        # the document as received, so nothing outside the signature can slip in).
        try:
            signed = xmlsig.verify_document(text, usage="headend", subject=settings.ADAPTER_HEADEND_ID).signed
        except xmlsig.SignatureError as exc:
            raise SignatureRefused(f"head-end response refused (HTTP {status}): {exc}") from None
        try:
            parsed = duis.parse(signed)
        except duis.DuisError as exc:
            raise BackendError(f"head-end answered HTTP {status} with no DUIS response: {exc}") from None
        code = parsed["header"].get("responseCode", "")
        times = {}
        for header, name in TIME_HEADERS.items():
            value = headers.get(header)
            if value:
                times[name] = dt.datetime.fromisoformat(value)
        # DUIS has no error text and carries the device's result as a GBCS payload: the message comes
        # from the head-end's header and the result from the payload the codec could decode.
        message = (headers.get(MESSAGE_HEADER) or "") if code.startswith("E") else ""
        payload = (parsed.get("payload") or {}) if code == "I0" else {}
        return simulator.Outcome(code, code != "I99", times, body=payload, message=message)


BACKENDS = {"simulator": SimulatorBackend, "duis": DuisBackend}


def get_backend(name=None):
    return BACKENDS[name or settings.ADAPTER_BACKEND]()

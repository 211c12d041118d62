"""manage.py headend_sim --port N: a DUIS head-end on localhost backed by the device simulator.

POST a DUIS Request to /duis: the answer is a DUIS Response (I0 with the device's result in
GBCSPayload, I99 for a request the device holds until its execution time, or an E-code), with the
simulated timestamps in X-DCC-* headers and an error's explanation in X-DCC-Message (DUIS itself
carries no error text). Used by the ``duis`` backend's tests as a real server in another process.

Every answer is signed with the head-end's key (the key store's key of settings.ADAPTER_HEADEND_ID,
made by ``manage.py duis keys``), as the real head-end signs its responses; the ``duis`` backend
refuses any answer that its registered head-end certificate does not verify. Without a key the
simulator answers unsigned (and says so when it starts): a backend then refuses every answer.
"""
import datetime as dt
import random
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.core.management.base import BaseCommand

from adapter import duis, simulator
from adapter.backends import MESSAGE_HEADER, TIME_HEADERS

HOLD_PATTERN = {"11.3", "1.1.1", "1.6", "6.4.1", "6.14.2"}  # device-held future-dated SRVs (DUIS "Device")
# Requests the devices hold until their execution time: request id -> (srv, region, times, execute_at).
# GET /duis/responses/<request id>?at=ISO answers the device's response once ``at`` reaches it.
HELD = {}


def signed(text):
    """The response as the bytes to send, signed with the head-end's key when the key store has one."""
    from adapter import xmlsig
    from adapter.keystore import KeyStoreError, get_keystore

    try:
        store, identity = get_keystore(), settings.ADAPTER_HEADEND_ID
        key, certificate = store.private_key(identity), store.certificate(identity)
    except KeyStoreError:
        return text.encode("utf-8")
    return xmlsig.sign_document(text, key, certificate)


def handle_duis(body, region, rng):
    """(HTTP status, headers, DUIS response text) for one request document (signed by Handler)."""
    try:
        parsed = duis.parse(body)
    except duis.DuisError as exc:
        return 400, {MESSAGE_HEADER: str(exc)}, duis.render_response(
            request_id="00-00-00-00-00-00-00-00:00-00-00-00-00-00-00-00:0", response_code="E1")
    header = parsed["header"]
    ids = header["requestId"]
    request_id = f"{ids['originatorId']}:{ids['targetId']}:{ids['counter']}"
    code = header.get("serviceReferenceVariant", "")
    if parsed["kind"] != "request":
        return 400, {MESSAGE_HEADER: "not a request"}, duis.render_response(request_id=request_id,
                                                                          response_code="E1", srv_code=code)
    execute_at = parsed.get("executeAt")
    when = dt.datetime.fromisoformat(execute_at.replace("Z", "+00:00")) if execute_at else None
    outcome = simulator.simulate(srv_code=code, non_device=header.get("commandVariant") == duis.CV_NON_DEVICE,
                                 region=region,
                                 start=dt.datetime.now(dt.UTC), execute_at=when,
                                 device_holds=bool(when and code in HOLD_PATTERN), rng=rng)
    if outcome.code == "I99":
        HELD[request_id] = (code, region, outcome.times, when)
    return 200, *_answer(request_id, code, outcome)


def _answer(request_id, code, outcome):
    headers = {name: outcome.times[field].isoformat() for name, field in TIME_HEADERS.items()
               if outcome.times.get(field)}
    if outcome.message:
        headers[MESSAGE_HEADER] = outcome.message
    text = duis.render_response(request_id=request_id, response_code=outcome.code, srv_code=code,
                                body=outcome.body)
    return headers, text


def collect_response(request_id, at, rng):
    """(HTTP status, headers, text) for a held request: 404 unknown, 204 not executed yet at ``at``,
    200 with the device's I0 response (given once: the request is then forgotten)."""
    held = HELD.get(request_id)
    if held is None:
        return 404, {}, ""
    code, region, times, when = held
    if when > at:
        return 204, {}, ""
    del HELD[request_id]
    outcome = simulator.respond(srv_code=code, region=region, times=times,
                                at=max(when, times.get("wan_delivered_at") or when), rng=rng)
    return 200, *_answer(request_id, code, outcome)


class Handler(BaseHTTPRequestHandler):
    rng = random.Random()

    def do_POST(self):  # noqa: N802 - http.server's naming
        if self.path.rstrip("/") != "/duis":
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status, headers, text = handle_duis(body, self.headers.get("X-DCC-Region") or "central", self.rng)
        data = signed(text)
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        from urllib.parse import parse_qs, unquote, urlsplit

        url = urlsplit(self.path)
        if url.path.startswith("/duis/responses/"):
            at_text = parse_qs(url.query).get("at", [""])[0]
            at = dt.datetime.fromisoformat(at_text) if at_text else dt.datetime.now(dt.UTC)
            status, headers, text = collect_response(unquote(url.path[len("/duis/responses/"):]), at, self.rng)
            data = signed(text) if text else b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        data = b"DUIS head-end simulator: POST DUIS requests to /duis\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # quiet: one line per request is noise in tests
        pass


class Command(BaseCommand):
    help = "Serve a simulated DUIS head-end on localhost (POST /duis)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--failure-rate", type=float, default=None,
                            help="E20+E21 probability per request in every region (default: the profile's)")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, port, host, failure_rate, seed, **options):
        if failure_rate is not None:
            half = failure_rate / 2
            simulator.configure(fail_e20={r: half for r in ("north", "central", "south")},
                                fail_e21={r: half for r in ("north", "central", "south")})
        if seed is not None:
            Handler.rng = random.Random(seed)
        from adapter.keystore import KeyStoreError, get_keystore

        try:
            get_keystore().certificate(settings.ADAPTER_HEADEND_ID)
        except KeyStoreError as exc:
            self.stderr.write(f"headend_sim: answers go UNSIGNED ({exc}); run `manage.py duis keys` first")
        server = ThreadingHTTPServer((host, port), Handler)
        self.stdout.write(f"headend_sim listening on http://{host}:{server.server_address[1]}/duis")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

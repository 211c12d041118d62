"""A supplier's own systems using the portal API through a client GENERATED from /api/schema/.

Generate the client first (no hand edits; pinned in requirements.txt):

    curl -s -H "Authorization: Token $TOKEN" "$PORTAL/api/schema/?format=json" > schema.json
    openapi-python-client generate --path schema.json --meta none \
        --config examples/openapi-python-client.yaml --custom-template-path examples/openapi-templates \
        --output-path dcc_portal_client

then run:  PORTAL=https://portal.example USERNAME=... PASSWORD=... DEVICE=... python supplier_client.py

It gets a token, lists its devices, submits a service request and waits for its response,
uploads a batch and follows it to completion, downloads its latest credit statement PDF, and
receives a webhook on a tiny local HTTP receiver, verifying X-DCC-Signature (docs/api/webhooks.md).
Calls go through the generated functions by operationId, so a move of the paths (e.g. under a
version prefix) only needs the client regenerated.
"""
# ruff: noqa: T201 (a script: it reports by printing)
from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dcc_portal_client import AuthenticatedClient, Client
from dcc_portal_client.api.adapter import (
    adapter_batches_create,
    adapter_batches_retrieve,
    adapter_requests_create,
    adapter_requests_retrieve,
)
from dcc_portal_client.api.auth import auth_token_create
from dcc_portal_client.api.devices import devices_list
from dcc_portal_client.api.slas import slas_statements_list, slas_statements_pdf_retrieve
from dcc_portal_client.api.webhook_endpoints import webhook_endpoints_create
from dcc_portal_client.models import AuthTokenRequest, BatchRowsRequest, SubmitRequest, WebhookEndpointRequest

REQUEST_DONE = {"responded", "failed", "rejected", "cancelled", "timed_out", "quarantined"}
BATCH_DONE = {"completed", "failed", "cancelled"}


def token(base_url: str, username: str, password: str, otp: str = "") -> AuthenticatedClient:
    """A token for the person: their password and, where they have multi-factor sign-in (every
    supplier that may send critical commands must), a current code of their authenticator app."""
    answer = auth_token_create.sync(client=Client(base_url=base_url),
                                    body=AuthTokenRequest(username=username, password=password, otp=otp))
    if answer is None or not hasattr(answer, "token"):
        raise SystemExit(f"token refused: {answer}")
    return AuthenticatedClient(base_url=base_url, token=answer.token, prefix="Token", timeout=30)


def devices(client: AuthenticatedClient) -> list[dict[str, Any]]:
    page = devices_list.sync(client=client)
    return [device.to_dict() for device in page.results]


def _wait(fetch, done: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = fetch().to_dict()
        if state["state"] in done or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


def service_request(client: AuthenticatedClient, srv: str, device_id: str, timeout: float = 60) -> dict[str, Any]:
    """Submit one request and poll until it reaches a terminal state (its response, or why not)."""
    created = adapter_requests_create.sync(client=client, body=SubmitRequest(srv=srv, device_id=device_id))
    if not hasattr(created, "id"):
        raise SystemExit(f"request refused: {created}")
    return _wait(lambda: adapter_requests_retrieve.sync(created.id, client=client), REQUEST_DONE, timeout)


def batch(client: AuthenticatedClient, rows: list[dict[str, Any]], timeout: float = 90) -> dict[str, Any]:
    created = adapter_batches_create.sync(client=client, body=BatchRowsRequest.from_dict({"name": "example",
                                                                                          "rows": rows}))
    if not hasattr(created, "id"):
        raise SystemExit(f"batch refused: {created}")
    return _wait(lambda: adapter_batches_retrieve.sync(created.id, client=client), BATCH_DONE, timeout)


def latest_statement_pdf(client: AuthenticatedClient) -> tuple[dict[str, Any], bytes] | None:
    page = slas_statements_list.sync(client=client)
    if not page.results:
        return None
    latest = page.results[0]  # newest month, newest version first
    pdf = slas_statements_pdf_retrieve.sync(latest.id, client=client)
    return latest.to_dict(), pdf.payload.read()


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """X-DCC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">; old ones are replays."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Receiver:
    """A tiny webhook receiver on 127.0.0.1: verified bodies land on ``received``."""

    def __init__(self) -> None:
        self.secret = ""
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.refused = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1_000_000))
                if not verify(outer.secret, self.headers.get("X-DCC-Signature", ""), body):
                    outer.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                self.send_response(204)
                self.end_headers()
                outer.received.put(json.loads(body))

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def subscribe(self, client: AuthenticatedClient, events: list[str]) -> None:
        endpoint = webhook_endpoints_create.sync(client=client, body=WebhookEndpointRequest.from_dict(
            {"name": "example receiver", "url": self.url, "events": events}))
        if not hasattr(endpoint, "secret"):
            raise SystemExit(f"endpoint refused: {endpoint}")
        self.secret = endpoint.secret

    def close(self) -> None:
        self.server.shutdown()


def main() -> None:
    client = token(os.environ["PORTAL"], os.environ["USERNAME"], os.environ["PASSWORD"], os.environ.get("OTP", ""))
    mine = devices(client)
    print(f"{len(mine)} devices")
    device_id = os.environ.get("DEVICE") or mine[0]["device_id"]
    receiver = Receiver()
    receiver.subscribe(client, ["statement.issued", "request.failed", "incident.created"])
    print("service request:", service_request(client, "4.1.1", device_id))
    print("batch:", batch(client, [{"srv": "4.1.1", "device_id": device_id, "params": {}}] * 3))
    statement = latest_statement_pdf(client)
    if statement:
        with open(f"statement-{statement[0]['id']}.pdf", "wb") as out:
            out.write(statement[1])
    try:
        print("webhook:", receiver.received.get(timeout=float(os.environ.get("WAIT", "30"))))
    except queue.Empty:
        print("no webhook within the wait")
    receiver.close()


if __name__ == "__main__":
    main()

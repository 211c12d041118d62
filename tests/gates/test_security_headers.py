"""Security headers and settings as a browser meets them.

- Every page carries a Content-Security-Policy whose script-src allows only the site itself (no
  'unsafe-inline', no 'unsafe-eval', no other host), and no page of the site contains an inline
  <script> or an inline event handler (which that policy would block anyway, breaking the page).
- Under production settings (DEBUG=0) HTTPS is enforced: HSTS on secure responses, plain HTTP
  redirected, session and CSRF cookies marked Secure and HttpOnly where they must be.
(`manage.py check --deploy` is checked in tests/portal/test_settings.py.)
"""
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, reverse

from tests.urlsweep import iter_routes

ROOT = Path(__file__).resolve().parents[2]


def csp_directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


class InlineScriptFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems = []
        self._in_inline = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> (inline event handler)")
        for name in ("href", "src", "action"):
            if (attrs.get(name) or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:...>")
        if tag == "script":
            kind = (attrs.get("type") or "").lower()
            self._in_inline = not attrs.get("src") and kind not in ("application/json", "application/ld+json")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline = False

    def handle_data(self, data):
        if self._in_inline and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client, dcc_operator, client_for):
    for response in (client.get(reverse("login")), client_for(dcc_operator).get(reverse("home"))):
        header = response.headers.get("Content-Security-Policy")
        assert header, "no Content-Security-Policy header"
        directives = csp_directives(header)
        script_src = directives.get("script-src", directives.get("default-src"))
        assert script_src == ["'self'"], f"script-src is {script_src}"
        assert directives.get("object-src") == ["'none'"]
        assert directives.get("frame-ancestors") == ["'none'"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_no_page_has_inline_script_or_event_handlers(client, dcc_admin, client_for):
    """Every page without parameters, as the DCC administrator (who sees every menu) and anonymously."""
    admin = client_for(dcc_admin)
    checked = []
    for route in iter_routes():
        if route.params or route.name.startswith("api") or ":api" in route.name:
            continue
        try:
            url = reverse(route.name)
        except NoReverseMatch:
            continue
        for who, web in (("admin", admin), ("anonymous", client)):
            response = web.get(url)
            if response.status_code != 200 or "html" not in response.headers.get("Content-Type", ""):
                continue
            finder = InlineScriptFinder()
            finder.feed(response.content.decode("utf-8", "replace"))
            assert not finder.problems, f"{url} as {who}: {finder.problems}"
            checked.append(url)
    assert len(checked) >= 5, checked


PRODUCTION_PROBE = """
import django, json
django.setup()
from django.test import Client
from django.conf import settings
secure = Client().get("/accounts/login/", secure=True)
plain = Client().get("/accounts/login/")
cookies = {name: {"secure": bool(c["secure"]), "httponly": bool(c["httponly"])} for name, c in secure.cookies.items()}
print(json.dumps({
    "hsts": secure.headers.get("Strict-Transport-Security", ""),
    "plain_status": plain.status_code, "plain_location": plain.headers.get("Location", ""),
    "cookies": cookies, "session_secure": settings.SESSION_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY, "csrf_secure": settings.CSRF_COOKIE_SECURE,
}))
"""


def test_production_settings_enforce_https_with_hsts_and_secure_cookies():
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="0", ALLOWED_HOSTS="testserver",
               SECRET_KEY="x7!k2p-production-like-secret-key-with-plenty-of-entropy-0a9s8d7f6g5h",
               DATABASE_URL="sqlite:///:memory:", LOG_LEVEL="ERROR")
    result = subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert re.fullmatch(r"max-age=31536000; includeSubDomains; preload", probe["hsts"]), probe["hsts"]
    assert probe["plain_status"] == 301 and probe["plain_location"].startswith("https://"), probe
    assert probe["session_secure"] and probe["session_httponly"] and probe["csrf_secure"], probe
    assert probe["cookies"].get("csrftoken", {}).get("secure") is True, probe["cookies"]

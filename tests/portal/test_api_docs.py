"""The API docs under the content security policy: every script, style sheet and icon the Swagger
UI and ReDoc pages load is a file of this site that answers, no inline script runs, and the policy
each page gets allows what it loads and nothing more (ReDoc alone may start its blob: worker).
The browser side (no violation in the console) is tests/e2e/test_api_docs.py."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _policy(response):
    return {name: values.split() for name, _, values in
            (part.strip().partition(" ") for part in response["Content-Security-Policy"].split(";"))}


def _loads(html):
    return re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', html)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_pages_load_only_this_sites_files_under_its_policy(url, supplier_a, client_for):
    client = client_for(supplier_a)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    policy = _policy(page)
    assert policy["script-src"] == ["'self'"] and policy["default-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # Swagger UI and ReDoc style their own elements
    assert "https://" not in html and "http://" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script: script-src 'self' blocks it"
    loaded = _loads(html)
    assert loaded
    for address in loaded:
        assert address.startswith("/") and not address.startswith("//"), address
        answer = client.get(address)
        assert answer.status_code == 200, address
        if hasattr(answer, "streaming_content"):
            b"".join(answer.streaming_content)
    if url.endswith("redoc/"):
        assert policy["worker-src"] == ["'self'", "blob:"]  # its search index runs in a blob: worker
        assert "/static/vendor/redoc-2.5.4/bundles/redoc.standalone.js" in loaded
    else:
        assert "worker-src" not in policy
        assert any(address.endswith("swagger-ui-bundle.js") for address in loaded)


def test_the_vendored_redoc_asks_no_other_host_for_its_logo():
    bundle = (ROOT / "static/vendor/redoc-2.5.4/bundles/redoc.standalone.js").read_text()
    assert "cdn.redoc.ly" not in bundle
    assert '"2.5.4"' in bundle


@pytest.mark.django_db
def test_the_favicon_answers_at_the_root_and_every_page_links_it(client, supplier_a, client_for):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    body = b"".join(icon.streaming_content) if hasattr(icon, "streaming_content") else icon.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    login = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/favicon.ico" sizes="any">' in login
    svg = re.search(r'<link rel="icon" href="([^"]+\.svg)"', login).group(1)
    assert client.get(svg).status_code == 200
    assert '<link rel="icon" href="/favicon.ico"' in client_for(supplier_a).get("/").content.decode()

"""The API docs (Swagger UI and ReDoc, the pinned drf-spectacular-sidecar copies) work under the
site's content security policy: they draw the operations, and the browser reports no violation.
Swagger UI (the "API docs" link) only: ReDoc takes over two minutes to draw the 2.9 MB schema in
headless Chromium on a 2-core machine and its full-page screenshot times out, too slow for every
`make test`; tests/portal/test_api_docs.py holds its page and policy."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _watch_csp(page):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    return violations


def test_swagger_ui_draws_the_operations_with_no_csp_violation(page, login, supplier_a):
    violations = _watch_csp(page)
    login(page, supplier_a)
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("DCC operations portal API", timeout=60_000)
    expect(page.locator(".opblock-tag").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert violations == [], violations
    assert page.console_errors == []


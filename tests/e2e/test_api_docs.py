"""The API docs (Swagger UI and ReDoc, the pinned drf-spectacular-sidecar copies) work under the
site's content security policy: they draw the operations, and the browser reports no violation."""
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


def test_redoc_draws_the_operations_with_no_csp_violation(page, login, supplier_a):
    violations = _watch_csp(page)
    login(page, supplier_a)
    page.goto("/api/v1/redoc/")
    expect(page.locator("h1").first).to_contain_text("DCC operations portal API", timeout=150_000)
    expect(page.locator("[role=search] input, input[placeholder=Search]").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert violations == [], violations
    assert page.console_errors == []

"""First journeys: a DCC operator and a supplier log in and see their own dashboard and menu."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_dcc_operator_logs_in_and_sees_the_operations_menu(page, login, dcc_operator):
    login(page, dcc_operator)
    expect(page.locator("h1")).to_have_text("Good day, Operator")
    expect(page.locator(".lede")).to_contain_text("Data Communications Company")
    sidebar = page.locator("nav.sidebar")
    expect(sidebar.get_by_role("link", name="Audit log")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Organisations")).to_be_visible()
    expect(page.locator("nav.account")).to_contain_text("DCC")
    page.get_by_role("link", name="Organisations").first.click()
    expect(page).to_have_url(re.compile(r"/organisations/$"))
    expect(page.locator("main")).to_contain_text("Albion Energy")
    assert page.console_errors == []


def test_supplier_logs_in_and_sees_only_its_own_world(page, login, supplier_a, supplier_b):
    login(page, supplier_a)
    expect(page.locator("h1")).to_have_text("Good day, Alice")
    expect(page.locator(".lede")).to_contain_text("Albion Energy")
    sidebar = page.locator("nav.sidebar")
    expect(sidebar.get_by_role("link", name="Audit log")).to_have_count(0)
    expect(sidebar.get_by_role("link", name="Organisations")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Brightwater")
    assert page.console_errors == []


def test_wrong_password_shows_a_message_and_no_session(page, login, supplier_a):
    page.goto("/accounts/login/")
    page.fill("#id_username", supplier_a.username)
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("did not match")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))

"""The page frame (issue 17): the navigation toggle, the layout stylesheet, device ids that never wrap.
What the browser makes of them (widths, the toggle clicked, axe) is tests/e2e/test_screens.py."""
from django.contrib.staticfiles import finders
from django.template import engines

from portal.templatetags.formatting import eui


def test_eui_writes_one_unbroken_escaped_token():
    assert eui("00-DB-12-34-56-78-90-A0") == '<code class="eui">00-DB-12-34-56-78-90-A0</code>'
    hostile = eui('<script>alert("x")</script>')
    assert hostile == '<code class="eui">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</code>'
    assert eui(None) == "" and eui("") == ""


def test_eui_is_a_builtin_of_every_template():
    rendered = engines["django"].from_string("{{ id|eui }}").render({"id": "00-DB-00-00-00-00-00-01"})
    assert rendered == '<code class="eui">00-DB-00-00-00-00-00-01</code>'


def test_the_layout_stylesheet_keeps_ids_whole_and_folds_the_navigation():
    path = finders.find("css/layout.css")
    assert path, "static/css/layout.css is missing"
    css = open(path, encoding="utf-8").read()
    assert "code.eui { white-space: nowrap; }" in css
    assert "scroll-margin-top" in css
    assert "@media (max-width: 799.98px)" in css and ".js .sidebar.open { display: block; }" in css


def test_every_page_has_the_menu_button_controlling_the_navigation(dcc_operator, client_for):
    body = client_for(dcc_operator).get("/").content.decode()
    assert ('<button type="button" class="nav-toggle" aria-controls="sidebar" aria-expanded="false">Menu</button>'
            in body)
    assert '<nav class="sidebar" id="sidebar" aria-label="Main">' in body
    assert "css/layout.css" in body and "<script>" not in body  # no inline script: the CSP forbids it


def test_signed_out_pages_have_no_menu_button(client):
    body = client.get("/accounts/login/").content.decode()
    assert "nav-toggle" not in body and "css/layout.css" in body

"""Hostile and broken input.

Text: every free-text field of every register model of the portal's apps (found by introspection, on one
object of every kind made by each app's tests/<app>/isolation.py) is set to text holding <script>, HTML, a
leading formula and, in long fields, 10,000 characters. Then, as the DCC administrator, every page, every
page's CSV/XLSX export and every API read must answer without a server error, HTML must show the text
escaped (never the raw <script>), and export cells holding it must be neutralised (a leading ').

Uploads: every import page of the site (url name ending in "_import") gets an oversized file, a wrong file
type, binary data, an empty file, a header-only file, UTF-8 with BOM, Latin-1, semicolon-separated and
duplicated rows. Each answers with a clear message and writes nothing.
"""
import csv
import html
import io
import re

import openpyxl
import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse

from tests.gates.schema_routes import model_of, objects_of_both, operations
from tests.gates.test_isolation_roles import sample
from tests.portal.test_isolation import param_value, urls_for
from tests.urlsweep import iter_routes

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
CORE = f"=1+2 {SCRIPT}<b id=hostile>bold</b>"
LONG = 10_000
SKIP_FIELDS = {"password", "username", "email", "last_login", "key"}
EXPORT_QUERIES = ("export=csv", "export=xlsx", "format=csv", "format=xlsx")
CSV_TYPES = ("text/csv",)
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)


def route_params():
    return {p for route in iter_routes() for p in route.params}


def text_fields(model, params):
    for field in model._meta.concrete_fields:
        if not isinstance(field, (models.CharField, models.TextField)) or field.choices or field.unique:
            continue
        if field.primary_key or field.name in SKIP_FIELDS or field.name in params:
            continue
        limit = field.max_length or LONG
        if limit < len(CORE):
            continue
        yield field, (CORE + " " + "x" * limit)[:limit]


def make_hostile(objects):
    """Overwrite the text fields in the database (as any door might have let them in); returns what changed."""
    params, changed = route_params(), []
    for obj, _marker in objects:
        model = type(obj)
        if model._meta.app_label not in settings.PORTAL_APPS:
            continue
        values = dict((f.attname, v) for f, v in text_fields(model, params))
        if values:
            model._default_manager.filter(pk=obj.pk).update(**values)
            changed.append(f"{model._meta.label}: {', '.join(values)}")
    return changed


def check_export(url, response, problems):
    kind = response.headers.get("Content-Type", "")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if kind.startswith(CSV_TYPES):
        cells = [c for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for c in row]
    elif kind.startswith(XLSX_TYPES):
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        cells = [c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row]
    else:
        return False
    for cell in cells:
        if isinstance(cell, str) and "alert(1)" in cell and cell[:1] in "=+-@\t\r":
            problems.append(f"{url}: export cell not neutralised: {cell[:40]!r}")
    return True


def test_hostile_text_is_escaped_on_every_page_export_and_api(orgs, supplier_a, supplier_b, dcc_admin, client_for,
                                                              api_for):
    objects = objects_of_both(orgs, supplier_a, supplier_b)
    changed = make_hostile(objects)
    assert changed, "no text field was found to fill"
    web = client_for(dcc_admin)
    problems, pages, exports = [], 0, 0
    for route in iter_routes():
        if route.name.startswith("api") or route.route.startswith("api/"):
            continue
        mine = [(o, m) for o, m in objects if type(o) is route.model][:3] if route.model else sample(objects)
        # Exports live on list pages (?export= / ?format=) and on routes named *export*.
        queries = ("",) + (EXPORT_QUERIES if not route.params or "export" in route.name else ())
        for url, _obj in urls_for(route, mine):
            for query in queries:
                target = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
                response = web.get(target)
                if response.status_code >= 500:
                    problems.append(f"GET {target} -> {response.status_code}")
                    continue
                if check_export(target, response, problems):
                    exports += 1
                    continue
                if query:
                    continue  # the page ignores that query: checked once without it
                pages += 1
                if "html" in response.headers.get("Content-Type", ""):
                    body = response.content.decode("utf-8", "replace")
                    if SCRIPT in body or "<b id=hostile>" in body:
                        problems.append(f"GET {target} shows the hostile text unescaped")
    api = api_for(dcc_admin)
    for op in operations(api):
        if op.method != "get":
            continue
        model = model_of(op.path)
        targets = [op.path] if not op.params else [
            op.fill({p: param_value(obj, p) for p in op.params}) for obj, _m in objects if type(obj) is model
        ]
        for target in targets:
            response = api.get(target)
            if response.status_code >= 500:
                problems.append(f"GET {target} -> {response.status_code}")
            elif response.status_code == 200 and "html" in response.headers.get("Content-Type", ""):
                if SCRIPT in response.content.decode("utf-8", "replace"):
                    problems.append(f"GET {target} returns the hostile text as HTML")
    assert pages > 5
    assert not problems, "\n".join(problems)


# ---- Uploads ---------------------------------------------------------------------------------------------
def import_pages():
    for route in iter_routes():
        if route.name.endswith("_import") and not route.params:
            try:
                yield reverse(route.name)
            except NoReverseMatch:
                continue


def file_field(page_html):
    found = re.search(r'<input[^>]*type="file"[^>]*name="([^"]+)"|<input[^>]*name="([^"]+)"[^>]*type="file"', page_html)
    return (found.group(1) or found.group(2)) if found else None


def row_count():
    return sum(m._default_manager.count() for app in settings.PORTAL_APPS
               for m in apps.get_app_config(app).get_models() if not m._meta.proxy)


def post(client, url, field, name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(url, {field: SimpleUploadedFile(name, data, content_type="application/octet-stream")})
    text = html.unescape(response.content.decode("utf-8", "replace")) if not response.streaming else ""
    return response, text


def expected_columns(client, url, field):
    _response, text = post(client, url, field, "probe.csv", b"no_such_column\nvalue\n")
    found = re.search(r"Expected columns: ([^;]+);", text)
    return [c.strip() for c in found.group(1).split(",")] if found else None


@pytest.mark.parametrize("url", list(import_pages()) or [pytest.param(None, marks=pytest.mark.skip(
    reason="no import page exists yet"))])
def test_every_import_page_refuses_broken_files_clearly_and_writes_nothing(url, dcc_admin, client_for, settings):
    web = client_for(dcc_admin)
    page = web.get(url)
    assert page.status_code == 200, f"GET {url} -> {page.status_code}"
    field = file_field(page.content.decode())
    assert field, f"{url} has no file input"
    before = row_count()
    settings.UPLOAD_MAX_BYTES = 4096
    cases = {
        "oversized": ("big.csv", b"a,b\n" + b"1,2\n" * 5000, "largest accepted"),
        "wrong type": ("report.pdf", b"%PDF-1.4 not a table", "Upload a CSV"),
        "binary": ("data.csv", bytes(range(256)) * 4, "binary data"),
        "empty": ("empty.csv", b"", "empty"),
        "whitespace only": ("blank.csv", b"  \n \n", "empty"),
    }
    for label, (name, data, message) in cases.items():
        response, text = post(web, url, field, name, data)
        assert response.status_code < 500, f"{label} upload to {url} -> {response.status_code}"
        assert message.lower() in text.lower(), f"{label} upload to {url}: no clear message ({message!r} expected)"
    columns = expected_columns(web, url, field)
    assert columns, f"{url}: a file with unknown columns got no message naming the expected columns"
    header = ",".join(columns)
    row = ",".join("x" for _ in columns)
    variants = {
        "header only": (f"{header}\n".encode(), "no data rows"),
        "UTF-8 with BOM": (("\ufeff" + f"{header}\n{row}\n").encode("utf-8"), None),
        "Latin-1": (f"{header}\n{row.replace('x', 'café', 1)}\n".encode("latin-1"), None),
        "semicolons": (f"{header.replace(',', ';')}\n{row.replace(',', ';')}\n".encode(), None),
        # A duplicate is named as such, unless the rows already fail on their values (then nothing commits).
        "duplicated rows": (f"{header}\n{row}\n{row}\n".encode(), r"duplicate|same as row \d|2 with errors"),
    }
    for label, (data, message) in variants.items():
        response, text = post(web, url, field, "upload.csv", data)
        assert response.status_code < 500, f"{label} upload to {url} -> {response.status_code}"
        assert "Missing column" not in text, f"{label} upload to {url}: the header was not read: {label}"
        assert "binary data" not in text and "cannot be read" not in text, f"{label} upload to {url} unreadable"
        if message:
            assert re.search(message, text, re.I), f"{label} upload to {url}: no clear message ({message!r})"
        else:
            # Garbage values: each row must get a message naming what is wrong (or be accepted in preview).
            assert "Row" in text or "row" in text, f"{label} upload to {url}: no row-level result shown"
    assert row_count() == before, f"broken uploads to {url} wrote rows"

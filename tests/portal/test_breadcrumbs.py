"""Breadcrumbs on every page and a <title> that names the page: a sweep over every route of the
site (tests/urlsweep.py) as a DCC operator, with the routes that name an object filled with
objects of every kind (each app's tests/<app>/isolation.py makes them)."""
import html
import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from portal import breadcrumbs
from tests.gates.test_isolation_roles import sample
from tests.portal.test_isolation import foreign_objects, urls_for
from tests.urlsweep import iter_routes

GENERIC_TITLE = "DCC operations portal · DCC portal"
TRAIL = re.compile(r'<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>(.*?)</ol></nav>', re.S)


def title_of(body):
    found = re.search(r"<title>(.*?)</title>", body, re.S)
    return html.unescape(found.group(1).strip()) if found else ""


def crumbs_of(body):
    found = TRAIL.search(body)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)] if found else []


@pytest.mark.django_db
def test_every_page_has_a_trail_and_a_title_of_its_own(orgs, supplier_b, dcc_operator, client_for):
    objects = foreign_objects(orgs["SUPB"], supplier_b)
    client = client_for(dcc_operator)
    pages, detail_pages = 0, 0
    problems = []
    for route in iter_routes():
        if route.name.startswith(("v1:", "api", "otp_webauthn")) or route.route.startswith("api/"):
            continue
        mine = [(o, m) for o, m in objects if type(o) is route.model] if route.model else sample(objects)
        for url, obj in urls_for(route, mine):
            response = client.get(url)
            if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
                continue
            body = response.content.decode()
            if '<main id="main"' not in body:
                continue  # an htmx fragment, or a standalone document to print (a meeting's agenda)
            pages += 1
            title = title_of(body)
            crumbs = crumbs_of(body)
            if not crumbs:
                problems.append(f"{url}: no breadcrumbs")
            if not title or title == GENERIC_TITLE or title.startswith("·"):
                problems.append(f"{url}: generic title {title!r}")
            if obj is not None and route.model is type(obj) and breadcrumbs._object_url(obj) == url:
                detail_pages += 1
                if str(obj) not in title:
                    problems.append(f"{url}: title {title!r} does not name {obj}")
                if crumbs[-1:] != [str(obj)]:
                    problems.append(f"{url}: trail {crumbs} does not end with {obj}")
    assert not problems, "\n".join(problems)
    print(f"{pages} pages, {detail_pages} object pages")
    assert pages > 40 and detail_pages > 10


@pytest.mark.django_db
def test_a_device_page_runs_from_its_section_through_the_list(orgs, supplier_b, dcc_operator, client_for):
    from tests.inventory.isolation import owned_objects

    meter = owned_objects(orgs["SUPB"], supplier_b)[1][0]
    body = client_for(dcc_operator).get(meter.get_absolute_url()).content.decode()
    assert crumbs_of(body) == ["Operations", "Devices", str(meter)]
    assert f'<a href="{reverse("inventory:device_list")}">Devices</a>' in TRAIL.search(body).group(1)
    assert f'<span aria-current="page">{meter}</span>' in body
    assert title_of(body) == f"{meter} · DCC portal"


@pytest.mark.django_db
def test_a_page_under_an_object_links_back_to_it(orgs, supplier_b, dcc_operator, client_for):
    from tests.inventory.isolation import owned_objects

    meter = owned_objects(orgs["SUPB"], supplier_b)[1][0]
    body = client_for(dcc_operator).get(reverse("inventory:device_edit", args=[meter.device_id])).content.decode()
    crumbs = crumbs_of(body)
    assert crumbs[:3] == ["Operations", "Devices", str(meter)] and len(crumbs) == 4
    assert f'<a href="{meter.get_absolute_url()}">{meter}</a>' in body


@pytest.mark.django_db
def test_a_list_page_is_its_own_last_crumb_and_sections_are_not_links(dcc_operator, client_for):
    body = client_for(dcc_operator).get(reverse("audit_log")).content.decode()
    assert crumbs_of(body) == ["Admin", "Audit log"]
    assert '<span aria-current="page">Audit log</span>' in body
    assert title_of(body) == "Audit log · DCC portal"


@pytest.mark.django_db
def test_only_links_of_the_persons_own_navigation(orgs, supplier_a, sdag_member, client_for):
    # an SDAG member has no Devices link: a page outside their navigation starts at the dashboard
    factory = RequestFactory()
    request = factory.get("/inventory/devices/")
    request.user = sdag_member
    request.resolver_match = None
    crumbs = breadcrumbs.trail(request, {}, "Devices")
    assert crumbs[0] == breadcrumbs.Crumb("Dashboard", reverse("home"))
    assert reverse("inventory:device_list") not in [c.url for c in crumbs]
    anonymous = factory.get("/")
    from django.contrib.auth.models import AnonymousUser

    anonymous.user = AnonymousUser()
    assert breadcrumbs.trail(anonymous, {}, "x") == []


def test_a_title_is_escaped_once():
    factory = RequestFactory()
    request = factory.get("/somewhere/")
    request.resolver_match = None
    assert breadcrumbs.page_title(request, {}, "<b>R&D</b>") == "&lt;b&gt;R&amp;D&lt;/b&gt;"


@pytest.mark.django_db
def test_a_function_view_declares_the_object_its_page_belongs_to(orgs, supplier_b, dcc_operator):
    from tests.inventory.isolation import owned_objects

    meter = owned_objects(orgs["SUPB"], supplier_b)[1][0]
    request = RequestFactory().get(f"/inventory/devices/{meter.device_id}/something/")
    request.user = dcc_operator
    request.resolver_match = None
    breadcrumbs.trail_through(request, meter)
    assert breadcrumbs.trail(request, {}, "Something") == [
        breadcrumbs.Crumb("Operations"), breadcrumbs.Crumb("Devices", reverse("inventory:device_list")),
        breadcrumbs.Crumb(str(meter), meter.get_absolute_url()), breadcrumbs.Crumb("Something")]

"""The role dashboards: the right tiles per role, scoped figures, htmx refresh, a query count
that does not grow with the data, and every registered tile rendered for every audience (a tile
that breaks fails here, it never disappears from the page)."""
import datetime as dt

import pytest
import time_machine
from django.core.exceptions import FieldError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import dashboard
from portal.registry import TILES, Tile
from slas.metrics import LONDON, london_day, month_start
from workshops.tiles import GOVERNANCE_ROWS, london_today

pytestmark = pytest.mark.django_db
ROLES = ["dcc_operator", "dcc_admin", "supplier_a", "supplier_b", "sdag_member"]


def make_data(orgs, size):
    """``size`` failed facts in the last hour per supplier and month rollups for every measure."""
    from slas.models import Measure, MonthRollup, RequestFact
    from slas.services import ensure_measures

    ensure_measures()
    now = timezone.now()
    month = month_start(london_day(now))
    facts = []
    for code in ("SUPA", "SUPB"):
        for n in range(size):
            at = now - dt.timedelta(minutes=1 + n % 50)
            facts.append(RequestFact(request_id=f"{code}:{size}:{n}", srv="4.1.1", measurement_type="on_demand",
                                     organisation=orgs[code], region=["north", "south"][n % 2], start_at=at,
                                     day=at.astimezone(LONDON).date(), outcome="E21"))
    RequestFact.objects.bulk_create(facts)
    MonthRollup.objects.all().delete()
    MonthRollup.objects.bulk_create([
        MonthRollup(month=month, measure=measure, provider="E2E", region=region, organisation=orgs[code],
                    measured=100 * size, within=99 * size)
        for measure in Measure.objects.all() for code in ("SUPA", "SUPB") for region in ("north", "south")])


def home_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_dcc_home_holds_its_query_count_at_two_data_sizes(orgs, dcc_operator, client_for):
    client = client_for(dcc_operator)
    make_data(orgs, 5)
    small, html = home_queries(client)
    assert 'id="tile-measures"' in html and 'hx-trigger="every 30s"' in html
    make_data(orgs, 200)
    large, html = home_queries(client)
    assert large == small, f"{small} queries with little data, {large} with more"
    # The failures tile counts both suppliers' failures of the last hour (2 x (5 + 200)).
    failures = html.split('id="tile-failures"')[1].split("</section>")[0]
    assert '<p class="figure">410</p>' in failures


# At noon London: "today" holds all of the last hour's facts (in the first minutes after midnight
# some of them fell on yesterday and the tile rightly did not count them).
@time_machine.travel(dt.datetime(2026, 3, 11, 12, 0, tzinfo=LONDON), tick=True)
def test_service_user_tiles_show_only_their_organisation(orgs, supplier_a, dcc_operator, client_for):
    make_data(orgs, 7)
    client = client_for(supplier_a)
    _count, html = home_queries(client)
    assert 'id="tile-my_requests"' in html and 'id="tile-statement"' in html
    assert 'id="tile-failures"' not in html and 'id="tile-burnrate"' not in html
    tile = client.get("/dashboard/tiles/my_requests/").content.decode()
    assert '<p class="figure">7</p>' in tile  # their own seven failures, not the other supplier's
    assert client.get("/dashboard/tiles/failures/").status_code == 404  # a DCC tile
    measures = client.get("/dashboard/tiles/measures/").content.decode()
    assert "99.00%" in measures
    assert client_for(dcc_operator).get("/dashboard/tiles/nonsense/").status_code == 404


def test_error_budget_arithmetic(orgs, dcc_operator, rf):
    from slas.models import Measure, MonthRollup
    from slas.services import ensure_measures
    from slas.tiles import measures_context

    ensure_measures()
    measure = Measure.objects.filter(target_pct=99).first()
    # Ten days into a 31-day month with no clock change: 1000 measured, 15 missed.
    now = dt.datetime(2026, 1, 11, 0, 0, tzinfo=LONDON)
    MonthRollup.objects.create(month=dt.date(2026, 1, 1), measure=measure, provider="E2E", region="",
                               organisation=orgs["SUPA"], measured=1000, within=985)
    row = next(r for r in measures_context(dcc_operator, now)["rows"] if r["measure"] == measure)
    # Projected volume 3100; the target allows 1% of it = 31 misses; 15 used (48%); 46.5 projected (150%).
    assert (row["allowed"], row["used"], row["used_pct"]) == (31, 15, 48)
    assert row["projected_pct"] == 150
    assert row["achieved"] == 98.5 and row["state"] == "warn"


def test_sdag_member_and_missing_apps_get_no_fake_tiles(sdag_member, client_for):
    client = client_for(sdag_member)
    html = client.get("/").content.decode()
    assert 'id="tile-measures"' not in html and 'id="tile-requests"' not in html
    # Only installed apps register tiles: with none registered there is no tile, and the page
    # still renders (no tile is faked by the ground).
    with TILES.emptied():
        assert dashboard.tiles_for(sdag_member) == []
        page = client.get("/")
        assert page.status_code == 200 and 'id="tile-' not in page.content.decode()
        assert client.get("/dashboard/tiles/my_actions/").status_code == 404


# --- governance tiles ---------------------------------------------------------------------------

def make_governance(orgs, owner, size, tag):
    """``size`` of each: future meetings with agenda items, overdue actions owned by ``owner``,
    open RAID items over three topics (risks with likelihood and impact), consultations closing
    within the week."""
    from workshops.models import Action, AgendaItem, Consultation, Meeting, MeetingSeries, RaidItem, Topic

    today = london_today(timezone.now())
    series, _ = MeetingSeries.objects.get_or_create(code="sdag", defaults={"name": "SDAG"})
    start = Meeting.objects.count()
    meetings = Meeting.objects.bulk_create([
        Meeting(series=series, number=start + n + 1, title=f"SDAG {start + n + 1} {tag}",
                date=today + dt.timedelta(days=1 + n), start=dt.time(10), end=dt.time(12)) for n in range(size)])
    AgendaItem.objects.bulk_create([AgendaItem(meeting=m, position=p, title=f"Item {p} {tag}")
                                    for m in meetings for p in (1, 2, 3)])
    actions = Action.objects.bulk_create([
        Action(reference=f"{tag}_{n}.01", meeting=meetings[0], title=f"Overdue action {tag} {n}",
               due=today - dt.timedelta(days=1 + n), status="open") for n in range(size)])
    for action in actions:
        action.owners.add(owner)
    topics = [Topic.objects.get_or_create(name=f"Topic {i}")[0] for i in range(3)]
    RaidItem.objects.bulk_create([
        RaidItem(kind=["risk", "issue"][n % 2], topic=topics[n % 3], title=f"RAID {tag} {n}", originator=orgs["DCC"],
                 status="open", likelihood=1 + n % 5, impact=1 + (n // 5) % 5) for n in range(size)])
    Consultation.objects.bulk_create([
        Consultation(title=f"Consultation {tag} {n}", opens=today - dt.timedelta(days=20),
                     closes=today + dt.timedelta(days=n % 7)) for n in range(size)])


def page_queries(client, url="/"):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def tile_html(html, slug):
    return html.split(f'id="tile-{slug}"')[1].split("</section>")[0]


def test_dcc_governance_tiles_hold_their_query_count(orgs, dcc_operator, sdag_member, client_for):
    client = client_for(dcc_operator)
    make_governance(orgs, sdag_member, 3, "SMALL")
    small, html = page_queries(client)
    for slug in ("overdue_actions", "raid", "consultations_closing", "next_meetings"):
        assert f'id="tile-{slug}"' in html
    assert '<p class="figure">3</p>' in tile_html(html, "overdue_actions")
    assert "plotly.min.js" in html and 'data-figure="fig-tile-raid"' in html
    assert 'class="tile tile-wide" id="tile-raid"' in html
    make_governance(orgs, sdag_member, 60, "LARGE")
    large, html = page_queries(client)
    assert large == small, f"{small} queries with little data, {large} with more"
    assert '<p class="figure">63</p>' in tile_html(html, "overdue_actions")
    raid = tile_html(html, "raid")
    assert '<p class="figure">63</p>' in raid and "Topic 0" in raid
    # Every tile refreshes on its own, in the same number of queries at both sizes.
    for slug in ("overdue_actions", "raid", "consultations_closing", "next_meetings"):
        count, partial = page_queries(client, f"/dashboard/tiles/{slug}/")
        assert partial.startswith("<section") and f'hx-get="/dashboard/tiles/{slug}/"' in partial
        # 9: the tile's own queries plus what every signed-in request costs (the session, written
        # each time for its sliding idle expiry, and the second factor's device).
        assert count <= 9, (slug, count)
    closing = page_queries(client, "/dashboard/tiles/consultations_closing/")[1]
    # Soonest first, capped: the ones closing today lead.
    assert closing.count("<li>") == GOVERNANCE_ROWS and "(today)" in closing.split("<li>")[1]


def test_sdag_member_dashboard_holds_its_query_count(orgs, sdag_member, dcc_operator, client_for):
    client = client_for(sdag_member)
    make_governance(orgs, sdag_member, 2, "SMALL")
    small, html = page_queries(client)
    for slug in ("my_actions", "open_consultations", "next_meeting"):
        assert f'id="tile-{slug}"' in html
    assert 'id="tile-overdue_actions"' not in html and 'id="tile-raid"' not in html
    assert "SMALL_0.01" in tile_html(html, "my_actions")
    meeting = tile_html(html, "next_meeting")
    assert "SDAG 1 SMALL" in meeting and "Item 1 SMALL" in meeting and "Item 3 SMALL" in meeting
    make_governance(orgs, sdag_member, 50, "LARGE")
    large, html = page_queries(client)
    assert large == small, f"{small} queries with little data, {large} with more"
    assert '<p class="figure">52 <small class="overdue">' in tile_html(html, "my_actions")
    assert '<p class="figure">52</p>' in tile_html(html, "open_consultations")
    # Actions owned by someone else are not "yours".
    other = page_queries(client_for(dcc_operator), "/dashboard/tiles/overdue_actions/")[1]
    assert '<p class="figure">52</p>' in other
    assert client_for(dcc_operator).get("/dashboard/tiles/my_actions/").status_code == 404


def test_suppliers_get_no_governance_tile(orgs, supplier_a, sdag_member, client_for):
    make_governance(orgs, sdag_member, 2, "HIDDEN")
    client = client_for(supplier_a)
    html = client.get("/").content.decode()
    assert "HIDDEN" not in html
    for slug in ("overdue_actions", "raid", "my_actions", "next_meeting"):
        assert client.get(f"/dashboard/tiles/{slug}/").status_code == 404


# --- every registered tile, for every audience ----------------------------------------------------

def make_everything(orgs, sdag_member, supplier_b):
    """Demo-like data behind every tile: facts and rollups of both suppliers, governance registers,
    every scoped kind of every app (the isolation sweep's objects, with a statement and a queued
    request), a quarantined request and an open burn-rate episode."""
    from adapter.models import ServiceRequest
    from slas.models import BurnRateEpisode, BurnRateRule
    from tests.portal.test_isolation import foreign_objects

    make_data(orgs, 3)
    make_governance(orgs, sdag_member, 3, "ALL")
    objects = foreign_objects(orgs["SUPB"], supplier_b)
    request = next(obj for obj, _ in objects if isinstance(obj, ServiceRequest))
    ServiceRequest.objects.filter(pk=request.pk).update(state="quarantined")
    rule = BurnRateRule.objects.create(name="Fast burn (tiles)")
    BurnRateEpisode.objects.create(rule=rule, measure_code="PM1.1", region="north", opened_at=timezone.now(),
                                   short_rate=20, long_rate=15, details={"short": [10, 3], "long": [60, 9]})


def test_tiles_are_registered_in_the_page_order():
    assert [tile.slug for tile in TILES] == [
        "burnrate", "measures", "requests", "quarantined", "failures", "fold_lag", "alerts", "service_status",
        "incidents_by_category", "overdue_actions", "consultations_closing", "next_meetings", "raid", "my_actions",
        "open_consultations", "next_meeting", "my_requests", "statement", "my_incidents"]


@pytest.mark.parametrize("with_data", [False, True], ids=["empty", "demo-like"])
def test_every_registered_tile_renders_for_every_audience(with_data, orgs, sdag_member, supplier_b, request,
                                                          client_for):
    if with_data:
        make_everything(orgs, sdag_member, supplier_b)
    shown = set()
    for role in ROLES:
        user = request.getfixturevalue(role)
        client = client_for(user)
        mine = dashboard.tiles_for(user)
        html = client.get("/").content.decode()
        for tile in TILES:
            assert (f'id="tile-{tile.slug}"' in html) == (tile in mine), (role, tile.slug)
        for tile in mine:
            # Raises (and fails the test) if the tile's context or template is broken.
            partial = client.get(f"/dashboard/tiles/{tile.slug}/").content.decode()
            assert partial.startswith("<section") and f'id="tile-{tile.slug}"' in partial, (role, tile.slug)
            shown.add(tile.slug)
    # Every registered tile has an audience that sees it.
    assert shown == {tile.slug for tile in TILES}
    if with_data:  # the data reached the tiles, each through its scope
        dcc = client_for(request.getfixturevalue("dcc_operator"))
        assert "PM1.1 · north: 20.00× / 15.00×" in dcc.get("/dashboard/tiles/burnrate/").content.decode()
        assert '<p class="figure">1</p>' in dcc.get("/dashboard/tiles/quarantined/").content.decode()
        # Money as £1,250,000.00 (issue 17): the site's one money filter.
        assert "credit £4,242.17" in client_for(supplier_b).get("/dashboard/tiles/statement/").content.decode()
        assert "£4,242.17" not in client_for(request.getfixturevalue("supplier_a")).get(
            "/dashboard/tiles/statement/").content.decode()


def test_a_tile_that_breaks_fails_the_page_instead_of_vanishing(dcc_operator, client_for):
    def broken(user, now):
        raise FieldError("Cannot resolve keyword 'renamed' into field")

    with TILES.registered(Tile("broken", "Broken tile", ("dcc",), broken, "portal/partials/tile_base.html")):
        client = client_for(dcc_operator)
        with pytest.raises(FieldError):
            client.get("/")
        with pytest.raises(FieldError):
            client.get("/dashboard/tiles/broken/")
    assert "broken" not in TILES


# --- the fold's lag ---------------------------------------------------------------------------------

def test_fold_lag_tile_is_zero_when_caught_up_and_positive_while_records_wait(orgs, dcc_operator, supplier_a,
                                                                               client_for):
    from adapter.models import Alert, ServiceRequest
    from slas import facts, selectors
    from tests.slas.test_fold import _request

    def lag():
        return {row["kind"]: (row["seconds"], row["records"]) for row in selectors.fold_lag()}

    client = client_for(dcc_operator)
    assert lag() == {"requests": (0.0, 0), "alerts": (0.0, 0)}  # nothing completed: nothing to fold
    assert "caught up" in client.get("/dashboard/tiles/fold_lag/").content.decode()
    start = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
    _request("lag:1", orgs["SUPA"], start, completed=start + dt.timedelta(seconds=10))
    _request("lag:2", orgs["SUPA"], start, completed=start + dt.timedelta(seconds=100))
    alert = Alert.objects.create(alert_id="lag-al-1", alert_code="0x8F3A", organisation=orgs["SUPA"], region="north",
                                 raised_at=start)
    Alert.objects.filter(pk=alert.pk).update(created_at=start + dt.timedelta(seconds=30))
    # Never folded: the records wait, and there is no watermark to measure seconds from.
    assert lag() == {"requests": (None, 2), "alerts": (None, 1)}
    assert facts.fold_adapter() == (2, 1)
    assert lag() == {"requests": (0.0, 0), "alerts": (0.0, 0)}
    # One more request completes 5 minutes after the last folded one: 300 s and one record behind.
    late = _request("lag:3", orgs["SUPB"], start, completed=start + dt.timedelta(seconds=400))
    assert lag() == {"requests": (300.0, 1), "alerts": (0.0, 0)}
    tile = client.get("/dashboard/tiles/fold_lag/").content.decode()
    row = tile.split('data-kind="requests"')[1].split("</tr>")[0]
    assert '<td class="num">300</td>' in row and '<td class="num">1</td>' in row and "behind" in tile
    assert 'id="tile-fold_lag"' in client.get("/").content.decode()
    # Only DCC people see it: it is the pipeline's state, not a service user's.
    assert client_for(supplier_a).get("/dashboard/tiles/fold_lag/").status_code == 404
    # A tie on completed_at with a higher id still waits (the fold's watermark is the pair).
    ServiceRequest.objects.filter(pk=late.pk).update(completed_at=start + dt.timedelta(seconds=100))
    assert lag() == {"requests": (0.0, 1), "alerts": (0.0, 0)}
    assert facts.fold_adapter() == (1, 0)
    assert lag() == {"requests": (0.0, 0), "alerts": (0.0, 0)}

"""The role dashboards: the right tiles per role, scoped figures, htmx refresh, and a query count
that does not grow with the data."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import dashboard

pytestmark = pytest.mark.django_db
needs_slas = pytest.mark.skipif(dashboard._model("slas.MonthRollup") is None, reason="slas is not built yet")


def make_data(orgs, size):
    """``size`` failed facts in the last hour per supplier and month rollups for every measure."""
    from slas.models import Measure, MonthRollup, RequestFact
    from slas.services import ensure_measures

    ensure_measures()
    now = timezone.now()
    month = dashboard._month(now)[0]
    facts = []
    for code in ("SUPA", "SUPB"):
        for n in range(size):
            at = now - dt.timedelta(minutes=1 + n % 50)
            facts.append(RequestFact(request_id=f"{code}:{size}:{n}", srv="4.1.1", measurement_type="on_demand",
                                     organisation=orgs[code], region=["north", "south"][n % 2], start_at=at,
                                     day=at.astimezone(dashboard.LONDON).date(), outcome="E21"))
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


@needs_slas
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


@needs_slas
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


@needs_slas
def test_error_budget_arithmetic(orgs, dcc_operator, rf):
    from slas.models import Measure, MonthRollup
    from slas.services import ensure_measures

    ensure_measures()
    measure = Measure.objects.filter(target_pct=99).first()
    # Ten days into a 31-day month with no clock change: 1000 measured, 15 missed.
    now = dt.datetime(2026, 1, 11, 0, 0, tzinfo=dashboard.LONDON)
    MonthRollup.objects.create(month=dt.date(2026, 1, 1), measure=measure, provider="E2E", region="",
                               organisation=orgs["SUPA"], measured=1000, within=985)
    row = next(r for r in dashboard.measures_context(dcc_operator, now)["rows"] if r["measure"] == measure)
    # Projected volume 3100; the target allows 1% of it = 31 misses; 15 used (48%); 46.5 projected (150%).
    assert (row["allowed"], row["used"], row["used_pct"]) == (31, 15, 48)
    assert row["projected_pct"] == 150
    assert row["achieved"] == 98.5 and row["state"] == "warn"


def test_sdag_member_and_missing_apps_get_no_fake_tiles(sdag_member, client_for, monkeypatch):
    client = client_for(sdag_member)
    html = client.get("/").content.decode()
    assert 'id="tile-measures"' not in html and 'id="tile-requests"' not in html
    # A tile whose app is missing is omitted.
    monkeypatch.setattr(dashboard, "_model", lambda label: None)
    assert dashboard.tiles_for(sdag_member) == []

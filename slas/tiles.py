"""Dashboard tiles of the service levels: the month's measures and error budgets, failures of the
last hour, burn-rate warnings, the fold's lag behind the adapter, and a service user's requests
today and latest statement.

They read rollups and grouped counts on indexed columns (MonthRollup, facts of the last hour by
their start-time index), so a tile's query count does not depend on the data size.
Registered in SlasConfig.ready().
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Sum
from django.urls import reverse

from portal.access import DCC, OPERATIONS
from portal.registry import Tile, register_tile
from portal.scoping import scope
from slas import selectors
from slas.burnrate import measures_without_rule
from slas.choices import EpisodeState, MeasureState
from slas.metrics import LONDON, error_budget, london_day, measure_state, month_bounds, month_start
from slas.models import BurnRateEpisode, Measure, MonthRollup, RequestFact, Statement

if TYPE_CHECKING:
    from portal.types import Viewer


# The tile's row classes by state (slas.metrics.measure_state decides the state for every table).
TILE_STATE = {MeasureState.MET: "good", MeasureState.BETWEEN: "warn", MeasureState.BELOW: "bad",
              MeasureState.NOT_MEASURED: "none"}


def measures_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """Month to date per measure: achieved vs target and minimum, and the error budget: misses
    the target allows this month (at the projected volume), used so far, projected at month end."""
    month = month_start(london_day(now))
    start, end = month_bounds(month)
    # Hours, not days: a month at the clock change has 743 or 745 of them.
    elapsed = max((now - start).total_seconds(), 1.0)
    share = Decimal(str(elapsed / (end - start).total_seconds()))
    totals = {row["measure"]: row for row in scope(user, MonthRollup.objects.filter(month=month))
              .values("measure").annotate(measured=Sum("measured"), within=Sum("within")).order_by()}
    rows = []
    for measure in Measure.objects.all():
        total = totals.get(measure.pk)
        measured = total["measured"] if total else 0
        within = total["within"] if total else 0
        misses = measured - within
        achieved = (Decimal(within) * 100 / measured).quantize(Decimal("0.01")) if measured else None
        projected_volume = Decimal(measured) / share if share else Decimal(0)
        allowed = (projected_volume * error_budget(measure.target_pct)).quantize(Decimal("1"))
        projected_misses = Decimal(misses) / share if share else Decimal(0)
        state = measure_state(achieved, measure.target_pct, measure.minimum_pct)
        rows.append({
            "measure": measure, "measured": measured, "achieved": achieved, "measure_state": state,
            "state": TILE_STATE[state],
            "allowed": allowed, "used": misses,
            "used_pct": (Decimal(misses) * 100 / allowed).quantize(Decimal("1")) if allowed else None,
            "projected_pct": (projected_misses * 100 / allowed).quantize(Decimal("1")) if allowed else None,
        })
    # Measures with traffic first (in the table's order), those with none folded behind them.
    rows.sort(key=lambda r: not r["measured"])
    return {"rows": rows, "month": month, "report_url": reverse("slas:report")}


def failures_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """Failed requests of the last hour by SRV and region, from the facts' start-time index."""
    facts = scope(user, RequestFact.objects.filter(start_at__gte=now - dt.timedelta(hours=1), start_at__lt=now)
                  .exclude(outcome__in=["", "I0", "I99"]))
    rows = list(facts.values("srv", "region").annotate(n=Count("pk")).order_by("-n", "srv")[:10])
    return {"rows": rows, "total": sum(r["n"] for r in rows), "list_url": reverse("adapter:request_list")}


def burnrate_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """Open episodes, and the measures no active rule watches: "nothing is burning" is said only
    of measures a rule looks at."""
    episodes = list(scope(user, BurnRateEpisode.objects.filter(state=EpisodeState.OPEN)).select_related("rule")[:10])
    unwatched = measures_without_rule()
    return {"episodes": episodes, "unwatched": unwatched, "rules_url": reverse("burnrate_rule_list")}


def fold_lag_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """How far the fold of adapter records into facts is behind (slas.selectors.fold_lag): a
    growing lag means the service measures on this page are stale."""
    rows = selectors.fold_lag()
    return {"rows": rows, "behind": any(row["records"] for row in rows), "cap": selectors.FOLD_LAG_CAP}


def my_requests_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """The service user's requests today by outcome (facts by their London day)."""
    today = london_day(now)
    # The London day as a start_at range: the indexed column (day = London date of start_at).
    midnight = dt.datetime.combine(today, dt.time(0), tzinfo=LONDON)
    following = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)
    rows = list(scope(user, RequestFact.objects.filter(start_at__gte=midnight, start_at__lt=following))
                .values("outcome").annotate(n=Count("pk")).order_by("-n"))
    return {"rows": rows, "total": sum(r["n"] for r in rows), "list_url": reverse("adapter:request_list")}


def statement_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    latest = scope(user, Statement.objects.all()).order_by("-month", "-version").first()
    return {"statement": latest, "url": reverse("slas:statement_detail", args=[latest.pk]) if latest else "",
            "list_url": reverse("slas:statement_list")}


# Weights interleave with adapter's and workshops' tiles: the page's order, DCC's urgent first.
register_tile(Tile("burnrate", "Burn-rate warnings", DCC, burnrate_context, "slas/partials/tile_burnrate.html",
                   weight=10))
register_tile(Tile("measures", "Service measures this month", OPERATIONS, measures_context,
                   "slas/partials/tile_measures.html", wide=True, weight=20))
register_tile(Tile("failures", "Failures in the last hour", DCC, failures_context, "slas/partials/tile_failures.html",
                   weight=50))
register_tile(Tile("fold_lag", "Fact fold lag", DCC, fold_lag_context, "slas/partials/tile_fold_lag.html",
                   weight=55))
register_tile(Tile("my_requests", "Your requests today", ("service_user",), my_requests_context,
                   "slas/partials/tile_my_requests.html", weight=140))
register_tile(Tile("statement", "Your latest statement", ("service_user",), statement_context,
                   "slas/partials/tile_statement.html", weight=150))

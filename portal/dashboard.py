"""The home page's tiles, by role: what needs you now.

Each tile is a small function returning its context, rendered from templates/portal/partials/
tile_<slug>.html and refreshed in place by htmx every 30 s (GET /dashboard/tiles/<slug>/).
Tiles read rollups and grouped counts on indexed columns (slas MonthRollup, facts of the last
hour by their time index, in-flight requests by state), so a tile's query count does not
depend on the data size. A tile whose app is not built yet is left out, never faked.

Only this module (with search and the URLconf) imports the other apps, each guarded.
"""
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.core.exceptions import FieldError
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from portal.scoping import scope
from slas.choices import EpisodeState
from slas.models import BurnRateEpisode

LONDON = ZoneInfo("Europe/London")
log = logging.getLogger(__name__)


def _model(label):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _url(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _month(now):
    local = now.astimezone(LONDON)
    start = dt.datetime(local.year, local.month, 1, tzinfo=LONDON)
    following = dt.datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=LONDON)
    return start.date(), start, following


# --- tile contexts --------------------------------------------------------------------------

def measures_context(user, now):
    """Month to date per measure: achieved vs target and minimum, and the error budget: misses
    the target allows this month (at the projected volume), used so far, projected at month end."""
    Measure, MonthRollup = _model("slas.Measure"), _model("slas.MonthRollup")
    month, start, end = _month(now)
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
        allowed = (projected_volume * (100 - measure.target_pct) / 100).quantize(Decimal("1"))
        projected_misses = Decimal(misses) / share if share else Decimal(0)
        rows.append({
            "measure": measure, "measured": measured, "achieved": achieved,
            "state": "none" if achieved is None else (
                "good" if achieved >= measure.target_pct else "warn" if achieved >= measure.minimum_pct else "bad"),
            "allowed": allowed, "used": misses,
            "used_pct": (Decimal(misses) * 100 / allowed).quantize(Decimal("1")) if allowed else None,
            "projected_pct": (projected_misses * 100 / allowed).quantize(Decimal("1")) if allowed else None,
        })
    return {"rows": rows, "month": month, "report_url": _url("slas:report")}


def requests_context(user, now):
    from adapter.choices import TERMINAL, RequestState

    ServiceRequest = _model("adapter.ServiceRequest")
    live = scope(user, ServiceRequest.objects.exclude(state__in=TERMINAL))
    counts = dict(live.values_list("state").annotate(n=Count("pk")).order_by())
    states = [(state, counts.get(state.value, 0)) for state in RequestState if state not in TERMINAL]
    return {"states": states, "list_url": _url("adapter:request_list")}


def quarantined_context(user, now):
    ServiceRequest = _model("adapter.ServiceRequest")
    waiting = scope(user, ServiceRequest.objects.filter(state="quarantined"))
    latest = list(waiting.select_related("srv", "organisation").order_by("-received_at")[:5])
    return {"count": waiting.count(), "latest": latest, "list_url": _url("adapter:request_list")}


def failures_context(user, now):
    """Failed requests of the last hour by SRV and region, from the facts' start-time index."""
    RequestFact = _model("slas.RequestFact")
    facts = scope(user, RequestFact.objects.filter(start_at__gte=now - dt.timedelta(hours=1), start_at__lt=now)
                  .exclude(outcome__in=["", "I0", "I99"]))
    rows = list(facts.values("srv", "region").annotate(n=Count("pk")).order_by("-n", "srv")[:10])
    return {"rows": rows, "total": sum(r["n"] for r in rows), "list_url": _url("adapter:request_list")}


def alerts_context(user, now):
    Alert = _model("adapter.Alert")
    recent = scope(user, Alert.objects.filter(created_at__gte=now - dt.timedelta(hours=1)))
    rows = list(recent.values("alert_code").annotate(n=Count("pk")).order_by("-n")[:5])
    return {"count": recent.count(), "rows": rows, "list_url": _url("adapter:alert_list")}


def burnrate_context(user, now):
    episodes = list(scope(user, BurnRateEpisode.objects.filter(state=EpisodeState.OPEN)).select_related("rule")[:10])
    return {"episodes": episodes}


def my_requests_context(user, now):
    """The service user's requests today by outcome (facts by their London day)."""
    RequestFact = _model("slas.RequestFact")
    today = now.astimezone(LONDON).date()
    # The London day as a start_at range: the indexed column (day = London date of start_at).
    midnight = dt.datetime.combine(today, dt.time(0), tzinfo=LONDON)
    following = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)
    rows = list(scope(user, RequestFact.objects.filter(start_at__gte=midnight, start_at__lt=following))
                .values("outcome").annotate(n=Count("pk")).order_by("-n"))
    return {"rows": rows, "total": sum(r["n"] for r in rows), "list_url": _url("adapter:request_list")}


def statement_context(user, now):
    Statement = _model("slas.Statement")
    latest = scope(user, Statement.objects.all()).order_by("-month", "-version").first()
    return {"statement": latest, "url": _url("slas:statement_detail", latest.pk) if latest else "",
            "list_url": _url("slas:statement_list")}


# --- governance tiles (workshops) ------------------------------------------------------------

GOVERNANCE_ROWS = 8


def _today(now):
    return now.astimezone(LONDON).date()


def overdue_actions_context(user, now):
    """Live actions past their due date (London day), oldest due first; two queries."""
    Action = _model("workshops.Action")
    overdue = scope(user, Action.objects.overdue(_today(now)))
    latest = list(overdue.select_related("meeting").prefetch_related("owners").order_by("due", "reference")
                  [:GOVERNANCE_ROWS])
    return {"count": overdue.count(), "actions": latest, "list_url": _url("workshops:action_list")}


def raid_context(user, now):
    """Open RAID items by topic and kind (one grouped query) and the open-risk heat map, drawn
    with workshops' own chart so the dashboard and the RAID log show the same picture."""
    from workshops import charts, selectors
    from workshops.choices import RAID_OPEN, RaidKind

    RaidItem = _model("workshops.RaidItem")
    rows = list(scope(user, RaidItem.objects.filter(status__in=RAID_OPEN)).values("topic", "topic__name", "kind")
                .annotate(n=Count("pk")).order_by("topic__name", "kind"))
    kinds = list(RaidKind)
    topics = {}
    for row in rows:
        topics.setdefault((row["topic"], row["topic__name"]), {kind.value: 0 for kind in kinds})[row["kind"]] = row["n"]
    cells = selectors.open_risk_matrix(user)
    return {"kinds": kinds, "topics": [(pk, name, [counts[k.value] for k in kinds], sum(counts.values()))
                                       for (pk, name), counts in topics.items()],
            "total": sum(r["n"] for r in rows), "risks": sum(len(v) for v in cells.values()),
            "figure": charts.risk_heatmap(cells), "list_url": _url("workshops:raid_list"),
            "heatmap_url": _url("workshops:raid_heatmap")}


def consultations_closing_context(user, now):
    """Open consultations whose last day falls within the coming seven days (London dates)."""
    Consultation = _model("workshops.Consultation")
    today = _today(now)
    closing = scope(user, Consultation.objects.filter(opens__lte=today, closes__gte=today,
                                                      closes__lt=today + dt.timedelta(days=7)))
    return {"consultations": list(closing.annotate(comment_count=Count("comments")).order_by("closes", "title")
                                  [:GOVERNANCE_ROWS]),
            "today": today, "list_url": _url("workshops:consultation_list")}


def next_meetings_context(user, now):
    Meeting = _model("workshops.Meeting")
    upcoming = scope(user, Meeting.objects.filter(date__gte=_today(now))).select_related("series")
    return {"meetings": list(upcoming.order_by("date", "start")[:5]), "list_url": _url("workshops:meeting_list")}


def my_actions_context(user, now):
    """Live actions the person owns, by name or as one of "ALL" members."""
    from django.db.models import Q

    Action = _model("workshops.Action")
    mine = scope(user, Action.objects.live().filter(Q(owners=user) | Q(all_members=True)).distinct())
    today = _today(now)
    actions = list(mine.select_related("meeting").order_by("due", "reference")[:GOVERNANCE_ROWS * 2])
    return {"count": mine.count(), "actions": actions, "today": today,
            "overdue": sum(1 for a in actions if a.due and a.due < today), "list_url": _url("workshops:action_mine")}


def open_consultations_context(user, now):
    Consultation = _model("workshops.Consultation")
    today = _today(now)
    open_now = scope(user, Consultation.objects.filter(opens__lte=today, closes__gte=today))
    return {"consultations": list(open_now.order_by("closes", "title")[:GOVERNANCE_ROWS]), "today": today,
            "count": open_now.count(), "list_url": _url("workshops:consultation_list")}


def next_meeting_context(user, now):
    """The next meeting and its agenda (items in order, one query for them)."""
    Meeting = _model("workshops.Meeting")
    meeting = (scope(user, Meeting.objects.filter(date__gte=_today(now))).select_related("series")
               .order_by("date", "start").first())
    agenda = list(meeting.agenda_items.order_by("position")) if meeting else []
    return {"meeting": meeting, "agenda": agenda, "list_url": _url("workshops:meeting_list")}


# --- the tile table -------------------------------------------------------------------------

@dataclass(frozen=True)
class Tile:
    slug: str
    title: str
    audience: tuple  # "dcc", "service_user", "sdag_member"
    needs: tuple  # model labels that must exist
    context: object
    wide: bool = False  # spans the grid: tables and charts that need the room
    chart: bool = False  # holds a plotly figure: the page loads plotly.js
    refresh: str = "30s"

    def available(self):
        return all(_model(label) is not None for label in self.needs)

    def render(self, request):
        # Without the request: a tile needs only its own context, and rendering with it ran every
        # context processor (the navigation's ~20 url reversals among them) once per tile.
        context = {"tile": self, **self.context(request.user, timezone.now())}
        return render_to_string(f"portal/partials/tile_{self.slug}.html", context)


TILES = [
    Tile("burnrate", "Burn-rate warnings", ("dcc",), ("slas.RequestFact",), burnrate_context),
    Tile("measures", "Service measures this month", ("dcc", "service_user"), ("slas.MonthRollup", "slas.Measure"),
         measures_context, wide=True),
    Tile("requests", "Requests in flight", ("dcc",), ("adapter.ServiceRequest",), requests_context),
    Tile("quarantined", "Quarantined, awaiting a decision", ("dcc", "service_user"), ("adapter.ServiceRequest",),
         quarantined_context),
    Tile("failures", "Failures in the last hour", ("dcc",), ("slas.RequestFact",), failures_context),
    Tile("alerts", "Alerts in the last hour", ("dcc",), ("adapter.Alert",), alerts_context),
    Tile("overdue_actions", "Overdue actions", ("dcc",), ("workshops.Action",), overdue_actions_context),
    Tile("consultations_closing", "Consultations closing this week", ("dcc",), ("workshops.Consultation",),
         consultations_closing_context),
    Tile("next_meetings", "Next meetings", ("dcc",), ("workshops.Meeting",), next_meetings_context),
    Tile("raid", "Open RAID items by topic", ("dcc",), ("workshops.RaidItem",), raid_context, wide=True,
         chart=True, refresh="120s"),
    Tile("my_actions", "Actions you own", ("sdag_member",), ("workshops.Action",), my_actions_context, wide=True),
    Tile("open_consultations", "Open consultations", ("sdag_member",), ("workshops.Consultation",),
         open_consultations_context),
    Tile("next_meeting", "Next meeting and its agenda", ("sdag_member",), ("workshops.Meeting",),
         next_meeting_context),
    Tile("my_requests", "Your requests today", ("service_user",), ("slas.RequestFact",), my_requests_context),
    Tile("statement", "Your latest statement", ("service_user",), ("slas.Statement",), statement_context),
]


def _audience(user):
    if user.is_dcc:
        return "dcc"
    return user.role


def tiles_for(user):
    audience = _audience(user)
    return [tile for tile in TILES if audience in tile.audience and tile.available()]


def tile_for(user, slug):
    return next((tile for tile in tiles_for(user) if tile.slug == slug), None)


def rendered_tiles(request):
    shown = []
    for tile in tiles_for(request.user):
        try:
            shown.append((tile, tile.render(request)))
        except FieldError:
            # The app behind it is being rebuilt: leave the tile out rather than break the page.
            log.warning("dashboard tile %s left out", tile.slug, exc_info=True)
    return shown

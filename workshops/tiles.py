"""Dashboard tiles of governance: for DCC, overdue actions, open RAID items by topic (with the
open-risk heat map), consultations closing this week and the next meetings; for SDAG members,
the actions they own, open consultations and the next meeting's agenda. Each tile is a few
queries whatever the register size. Registered in WorkshopsConfig.ready()."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.urls import reverse

from portal.access import DCC
from portal.registry import Tile, register_tile
from portal.scoping import scope
from workshops import charts, selectors
from workshops.choices import RAID_OPEN, RaidKind
from workshops.models import Action, Consultation, Meeting, RaidItem

if TYPE_CHECKING:
    from portal.types import Viewer

LONDON = ZoneInfo("Europe/London")
GOVERNANCE_ROWS = 8


def london_today(now: dt.datetime) -> dt.date:
    """Due dates and consultation windows are London calendar days."""
    return now.astimezone(LONDON).date()


def overdue_actions_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """Live actions past their due date (London day), oldest due first; two queries."""
    overdue = scope(user, Action.objects.overdue(london_today(now)))
    latest = list(overdue.select_related("meeting").prefetch_related("owners").order_by("due", "reference")
                  [:GOVERNANCE_ROWS])
    return {"count": overdue.count(), "actions": latest, "list_url": reverse("workshops:action_list")}


def raid_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """Open RAID items by topic and kind (one grouped query) and the open-risk heat map, drawn
    with workshops' own chart so the dashboard and the RAID log show the same picture."""
    rows = list(scope(user, RaidItem.objects.filter(status__in=RAID_OPEN)).values("topic", "topic__name", "kind")
                .annotate(n=Count("pk")).order_by("topic__name", "kind"))
    kinds = list(RaidKind)
    topics: dict[tuple[int, str], dict[str, int]] = {}  # (topic pk, name) -> open items by kind
    for row in rows:
        topics.setdefault((row["topic"], row["topic__name"]), {kind.value: 0 for kind in kinds})[row["kind"]] = row["n"]
    cells = selectors.open_risk_matrix(user)
    return {"kinds": kinds, "topics": [(pk, name, [counts[k.value] for k in kinds], sum(counts.values()))
                                       for (pk, name), counts in topics.items()],
            "total": sum(r["n"] for r in rows), "risks": sum(len(v) for v in cells.values()),
            "figure": charts.risk_heatmap(cells), "list_url": reverse("workshops:raid_list"),
            "heatmap_url": reverse("workshops:raid_heatmap")}


def consultations_closing_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """Open consultations whose last day falls within the coming seven days (London dates)."""
    today = london_today(now)
    closing = scope(user, Consultation.objects.filter(opens__lte=today, closes__gte=today,
                                                      closes__lt=today + dt.timedelta(days=7)))
    return {"consultations": list(closing.annotate(comment_count=Count("comments")).order_by("closes", "title")
                                  [:GOVERNANCE_ROWS]),
            "today": today, "list_url": reverse("workshops:consultation_list")}


def next_meetings_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    upcoming = scope(user, Meeting.objects.filter(date__gte=london_today(now))).select_related("series")
    return {"meetings": list(upcoming.order_by("date", "start")[:5]), "list_url": reverse("workshops:meeting_list")}


def my_actions_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """Live actions of the person (Action.objects.owned_by: by name, or as one of "ALL" members),
    the same rows as the "My actions" list."""
    mine = scope(user, Action.objects.live().owned_by(user))
    today = london_today(now)
    actions = list(mine.select_related("meeting").order_by("due", "reference")[:GOVERNANCE_ROWS * 2])
    return {"count": mine.count(), "actions": actions, "today": today,
            "overdue": sum(1 for a in actions if a.due and a.due < today),
            "list_url": reverse("workshops:action_mine")}


def open_consultations_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    today = london_today(now)
    open_now = scope(user, Consultation.objects.filter(opens__lte=today, closes__gte=today))
    return {"consultations": list(open_now.order_by("closes", "title")[:GOVERNANCE_ROWS]), "today": today,
            "count": open_now.count(), "list_url": reverse("workshops:consultation_list")}


def next_meeting_context(user: Viewer, now: dt.datetime) -> dict[str, Any]:
    """The next meeting and its agenda (items in order, one query for them)."""
    meeting = (scope(user, Meeting.objects.filter(date__gte=london_today(now))).select_related("series")
               .order_by("date", "start").first())
    agenda = list(meeting.agenda_items.order_by("position")) if meeting else []
    return {"meeting": meeting, "agenda": agenda, "list_url": reverse("workshops:meeting_list")}


SDAG = ("sdag_member",)
# Weights place these after the operational tiles (see slas/tiles.py); DCC's first, then SDAG's.
register_tile(Tile("overdue_actions", "Overdue actions", DCC, overdue_actions_context,
                   "workshops/partials/tile_overdue_actions.html", weight=70))
register_tile(Tile("consultations_closing", "Consultations closing this week", DCC, consultations_closing_context,
                   "workshops/partials/tile_consultations_closing.html", weight=80))
register_tile(Tile("next_meetings", "Next meetings", DCC, next_meetings_context,
                   "workshops/partials/tile_next_meetings.html", weight=90))
register_tile(Tile("raid", "Open RAID items by topic", DCC, raid_context, "workshops/partials/tile_raid.html",
                   wide=True, chart=True, refresh="120s", weight=100))
register_tile(Tile("my_actions", "Actions you own", SDAG, my_actions_context,
                   "workshops/partials/tile_my_actions.html", wide=True, weight=110))
register_tile(Tile("open_consultations", "Open consultations", SDAG, open_consultations_context,
                   "workshops/partials/tile_open_consultations.html", weight=120))
register_tile(Tile("next_meeting", "Next meeting and its agenda", SDAG, next_meeting_context,
                   "workshops/partials/tile_next_meeting.html", weight=130))

"""Reads of the governance registers that more than one view, export or task uses."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch
from django.utils import timezone

from portal.models import User
from portal.scoping import scope
from workshops.choices import ACTION_LIVE, RAID_OPEN, RaidKind
from workshops.models import Action, Comment, Meeting, RaidItem

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from portal.types import Viewer
    from workshops.models import AgendaItem, Consultation, MeetingSeries


def actions_for_list(user: Viewer) -> QuerySet[Action]:
    return (scope(user, Action).select_related("meeting")
            .prefetch_related("owners").order_by("reference"))


def meeting_with_agenda(meeting: Meeting) -> QuerySet[AgendaItem]:
    """Agenda items with presenters, outcomes and linked registers in a handful of queries."""
    return (meeting.agenda_items.prefetch_related("presenters", "raid_items", "documents", "consultations",
                                                 Prefetch("outcomes", to_attr="outcome_list"))
            .order_by("position"))


def next_meetings(user: Viewer, series: MeetingSeries | None = None, limit: int = 20) -> QuerySet[Meeting]:
    meetings = scope(user, Meeting).filter(date__gte=timezone.localdate()).order_by("date", "start")
    return meetings.filter(series=series)[:limit] if series else meetings[:limit]


def open_risk_matrix(user: Viewer) -> dict[tuple[int | None, int | None], list[RaidItem]]:
    """{(likelihood, impact): [references]} of open risks the user may see."""
    cells: dict[tuple[int | None, int | None], list[RaidItem]] = {}
    risks = scope(user, RaidItem).filter(kind=RaidKind.RISK, status__in=RAID_OPEN).exclude(likelihood=None)
    for item in risks.only("pk", "likelihood", "impact", "title"):
        cells.setdefault((item.likelihood, item.impact), []).append(item)
    return cells


def theme_summary(consultation: Consultation) -> list[tuple[str, int]]:
    """[(theme, count)] most frequent first, as in "193 comments received - main themes"."""
    rows = (Comment.objects.filter(consultation=consultation).values("theme").annotate(n=Count("pk"))
            .order_by("-n", "theme"))
    return [(row["theme"], row["n"]) for row in rows]


def disposition_summary(consultation: Consultation) -> Counter[str]:
    return Counter(Comment.objects.filter(consultation=consultation).values_list("disposition", flat=True))


def digest_recipients(today: dt.date | None = None) -> Iterator[tuple[User, list[Action], list[Action]]]:
    """People who own at least one open or ongoing action they may open, with those live and
    overdue actions. An owner who may not open the register (named from outside the governance
    audience) is not written to: the digest would carry the actions' titles."""
    today = today or timezone.localdate()
    owners = User.objects.filter(is_active=True, actions_owned__status__in=ACTION_LIVE).exclude(email="").distinct()
    for owner in owners:
        live = list(scope(owner, Action.objects.filter(owners=owner, status__in=ACTION_LIVE)).order_by("due",
                                                                                                       "reference"))
        if not live:
            continue
        overdue = [a for a in live if a.due is not None and a.due < today]
        yield owner, live, overdue


def originator_listeners(item: RaidItem) -> list[User]:
    """The originator's people who hear of the item's closure: those who may open it (the
    governance registers are DCC's and SDAG members'; a supplier's service-user staff may open
    none of them, so they are not told, and DCC answers for an originator with no one to ask)."""
    from portal.access import may_open

    return [p for p in item.originator.people.filter(is_active=True).exclude(email="") if may_open(p, item)]

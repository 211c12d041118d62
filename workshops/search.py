"""Search providers of the governance registers: actions by reference (SDAG_5.04, "sdag 5.04")
or free text, RAID items by number (RAID-7) or free text, documents by name or reference,
consultations and meetings (series and number, "SDAG 5") by free text.
Registered in WorkshopsConfig.ready()."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db.models import Q

from portal.registry import SearchProvider, register_search
from portal.scoping import scope
from portal.search import PER_KIND, Result, full_text, result_url
from workshops.models import Action, Consultation, Document, Meeting, RaidItem

if TYPE_CHECKING:
    from portal.types import Viewer

ACTION_REF = re.compile(r"^([A-Za-z]+)[\s_-]*(\d+)\.(\d+)$")
RAID_REF = re.compile(r"^(?:raid|r)[\s_#-]*(\d+)$", re.I)
MEETING_REF = re.compile(r"^([A-Za-z][\w-]*)\s*#?\s*(\d+)$")


def actions(user: Viewer, query: str) -> list[Result]:
    match = ACTION_REF.match(query.strip())
    queryset = scope(user, Action.objects.all())
    if match:
        prefix, major, minor = match.groups()
        found = queryset.filter(reference__iexact=f"{prefix}_{major}.{minor}")
    else:
        found = full_text(queryset, query, ["reference", "title", "text"])
    return [Result(a.reference, f"{a.title} · {a.get_status_display()} · due {a.due or 'tbc'}", result_url(a))
            for a in found[:PER_KIND]]


def raid_items(user: Viewer, query: str) -> list[Result]:
    queryset = scope(user, RaidItem.objects.select_related("topic"))
    match = RAID_REF.match(query.strip())
    found = queryset.filter(pk=int(match.group(1))) if match else full_text(queryset, query, ["title", "description"])
    return [Result(f"{r.get_kind_display()}: {r.title}", f"{r.topic.name} · {r.get_status_display()}", result_url(r))
            for r in found[:PER_KIND]]


def documents(user: Viewer, query: str) -> list[Result]:
    queryset = scope(user, Document.objects.all())
    exact = list(queryset.filter(Q(name__iexact=query) | Q(reference__iexact=query))[:PER_KIND])
    found = exact or list(full_text(queryset, query, ["name", "reference", "content"])[:PER_KIND])
    return [Result(d.name, f"{d.reference} · version {d.current_version or '—'}", result_url(d)) for d in found]


def consultations(user: Viewer, query: str) -> list[Result]:
    found = full_text(scope(user, Consultation.objects.all()), query, ["title", "summary"])[:PER_KIND]
    return [Result(c.title, url=result_url(c)) for c in found]


def meetings(user: Viewer, query: str) -> list[Result]:
    queryset = scope(user, Meeting.objects.select_related("series"))
    match = MEETING_REF.match(query.strip())
    found = []
    if match:
        found = list(queryset.filter(series__code__iexact=match.group(1), number=int(match.group(2)))[:PER_KIND])
    if not found:
        found = list(full_text(queryset, query, ["title", "venue", "minutes"])[:PER_KIND])
    return [Result(m.title, f"{m.series.name} {m.number} · {m.date:%d %b %Y}", result_url(m)) for m in found]


# The first free-text kinds on the page (inventory's follow at 60 and 70, organisations at 80).
register_search(SearchProvider("action", "Actions", actions, weight=10))
register_search(SearchProvider("raid", "RAID items", raid_items, weight=20))
register_search(SearchProvider("document", "Documents", documents, weight=30))
register_search(SearchProvider("consultation", "Consultations", consultations, weight=40))
register_search(SearchProvider("meeting", "Meetings", meetings, weight=50))

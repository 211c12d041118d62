"""Search providers of the Incident Management Log: incidents and problems by reference
(INC000123, "inc 123", PRB000004: exact keys of unique indexes), incidents naming a device or a
service request, and incidents and problems by free text. Every queryset through scope, so a
supplier finds only the incidents it raised or follows and nobody but DCC finds a problem.
Registered in ServicedeskConfig.ready()."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from portal.registry import SearchProvider, register_search
from portal.scoping import scope
from portal.search import PER_KIND, Result, full_text, result_url
from servicedesk import selectors
from servicedesk.models import Incident, IncidentReference, Problem

if TYPE_CHECKING:
    from portal.types import Viewer

REFERENCE = re.compile(r"^(INC|PRB)[\s#-]*0*(\d{1,6})$", re.I)


def _incident_results(found: QuerySet[Incident]) -> list[Result]:
    """Each incident with where its clock stands, as everywhere incidents are listed (the targets
    read once, the pauses in one query: selectors.with_clocks)."""
    results = []
    for incident, state in selectors.with_clocks(found):
        due = state.resolution.due_at
        clock = ("breached" if state.breached else
                 "paused" if state.resolution.paused else
                 f"resolution due {due.astimezone(selectors.LONDON):%d %b %H:%M}" if due and incident.is_open else "")
        subtitle = f"{incident.get_status_display()} · category {incident.category} · {incident.organisation.code}"
        results.append(Result(f"{incident.reference} {incident.summary}", subtitle + (f" · {clock}" if clock else ""),
                              result_url(incident, "servicedesk:incident_detail", incident.reference)))
    return results


def _problem_result(problem: Problem) -> Result:
    return Result(f"{problem.reference} {problem.title}", problem.get_status_display(),
                  result_url(problem, "servicedesk:problem_detail", problem.reference))


def by_reference(user: Viewer, query: str) -> list[Result]:
    """An incident or a problem by its reference, however it is typed."""
    match = REFERENCE.match(query.strip())
    if not match:
        return []
    prefix, number = match.group(1).upper(), int(match.group(2))
    reference = f"{prefix}{number:06d}"
    if prefix == "INC":
        return _incident_results(scope(user, Incident.objects.filter(reference=reference)
                                       .select_related("organisation")))
    return [_problem_result(p) for p in scope(user, Problem.objects.filter(reference=reference))[:1]]


def incidents(user: Viewer, query: str) -> list[Result]:
    """Incidents by free text over summary and description, or naming a device or request id."""
    visible = scope(user, Incident.objects.select_related("organisation"))
    named = IncidentReference.objects.filter(value__iexact=query.strip()).values("incident")
    found = visible.filter(pk__in=named)[:PER_KIND]
    if not found.exists():
        found = full_text(visible, query, ["summary", "description"])[:PER_KIND]
    return _incident_results(found)


def problems(user: Viewer, query: str) -> list[Result]:
    visible = scope(user, Problem.objects.all())
    found = full_text(visible, query, ["title", "description", "root_cause"])[:PER_KIND]
    return [_problem_result(p) for p in found]


# The reference key after alerts (adapter's weight 30); free text before inventory's catalogue (60).
register_search(SearchProvider("incident_reference", "Incidents and problems", by_reference, key=True, weight=35))
register_search(SearchProvider("incident", "Incidents", incidents, weight=55))
register_search(SearchProvider("problem", "Problems", problems, weight=56))

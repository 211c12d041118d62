"""Global search: one box, results grouped by kind, every queryset through portal.scoping.scope.

Each kind is a provider registered by the app that owns it (``<app>/search.py`` with
``portal.registry.register_search``). Exact keys first (device ids in any EUI-64 form,
MPAN/MPRN, request ids, alert ids): the ``key`` providers are unique-index lookups, so the
answer stays instant on a million devices, and when one of them answers the free-text kinds
are not asked. Free text then runs over titles and descriptions of the governance and reference
registers (never over the device or request tables) with ``full_text``: PostgreSQL full-text
search where the database is PostgreSQL, icontains on SQLite.

A provider that raises breaks the search and its test (tests/portal/test_search.py asks every
registered provider); it never quietly answers nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import F, Model, Q
from django.urls import NoReverseMatch, reverse

from portal.models import Organisation
from portal.registry import SEARCH_PROVIDERS, SearchProvider, register_search
from portal.scoping import scope
from portal.types import QuerySetT, Viewer

PER_KIND = 20


@dataclass
class Result:
    title: str
    subtitle: str = ""
    url: str = ""


@dataclass
class Group:
    kind: str
    label: str
    results: list[Result] = field(default_factory=list)


def result_url(obj: Model, name: str | None = None, *args: Any) -> str:
    """The page of a result: the url ``name`` with ``args``, else the object's own page; "" when
    the object has none (a result without a link rather than a broken one)."""
    if name:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return ""
    getter = getattr(obj, "get_absolute_url", None)
    if getter:
        try:
            return getter()
        except NoReverseMatch:
            return ""
    return ""


def full_text(queryset: QuerySetT, query: str, fields: list[str]) -> QuerySetT:
    """Free-text match over ``fields``: full-text search on PostgreSQL, icontains elsewhere."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        # Filter with ``vector @@ query`` over the very expression of the GIN indexes the
        # providers' apps create in their migrations (SearchVector(*fields, config="english")), so
        # PostgreSQL answers from the index; a filter on the rank could never use it. Rank only
        # the rows that matched.
        vector = SearchVector(*fields, config="english")
        search_query = SearchQuery(query, search_type="websearch", config="english")
        return (queryset.annotate(_vector=vector).filter(_vector=search_query)
                .annotate(_rank=SearchRank(F("_vector"), search_query)).order_by("-_rank"))
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": query})
    return queryset.filter(condition)


def search(user: Viewer, query: str | None) -> list[Group]:
    """Groups of results the user may see, in the registry's order, empty groups left out."""
    query = (query or "").strip()[:200]
    if not query:
        return []
    providers = list(SEARCH_PROVIDERS)
    groups = _run([p for p in providers if p.key], user, query)
    return groups or _run([p for p in providers if not p.key], user, query)


def _run(providers: list[SearchProvider], user: Viewer, query: str) -> list[Group]:
    groups = []
    for provider in providers:
        results = provider.find(user, query)
        if results:
            groups.append(Group(provider.kind, provider.label, results))
    return groups


# --- the ground's own kind --------------------------------------------------------------------

def _organisations(user: Viewer, query: str) -> list[Result]:
    found = scope(user, Organisation.objects.filter(Q(code__iexact=query) | Q(name__icontains=query)))[:PER_KIND]
    return [Result(o.name, f"{o.code} · {o.get_kind_display()}", result_url(o, "organisation_list") + f"?q={o.name}")
            for o in found]


# Organisations come after every app's free-text kind (the apps weigh theirs below 80).
register_search(SearchProvider("organisation", "Organisations", _organisations, weight=80))

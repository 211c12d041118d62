"""Saved filters: a person's named querystrings for one list page."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from portal.savedfilters.models import SavedFilter
from portal.writes import upsert

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from portal.models import User
    from portal.types import RequestUser

# Not part of a filter: where the list happened to be, and the CSRF token of the form.
DROPPED_PARAMS = {"page", "cursor", "csrfmiddlewaretoken"}


def clean_querystring(querystring: str | None) -> str:
    pairs = [(k, v) for k, v in parse_qsl((querystring or "").lstrip("?"), keep_blank_values=False)
             if k not in DROPPED_PARAMS]
    return urlencode(pairs)


def saved_filters_for(user: RequestUser, page: str) -> QuerySet[SavedFilter]:
    if not user.is_authenticated:
        return SavedFilter.objects.none()
    return SavedFilter.objects.filter(user=user, page=page)


@transaction.atomic
def saved_filter_save(*, user: User, page: str, name: str, querystring: str | None) -> SavedFilter:
    """Save (or overwrite, by name) the user's filter on ``page`` (a url name)."""
    try:
        reverse(page)
    except NoReverseMatch:
        raise ValidationError({"page": f"No list page is called {page!r}."})
    return upsert(SavedFilter, {"user": user, "page": page, "name": name.strip()},
                  querystring=clean_querystring(querystring))


@transaction.atomic
def saved_filter_delete(*, saved_filter: SavedFilter) -> None:
    saved_filter.delete()


def saved_filter_url(saved_filter: SavedFilter) -> str:
    url = reverse(saved_filter.page)
    return f"{url}?{saved_filter.querystring}" if saved_filter.querystring else url

"""Pagination shared by every list: page numbers for small lists, keyset for large tables.

The API's two paginators (DRF) and the pages' one keyset paginator (``keyset_page``) live here,
so a list of millions of rows is paged the same way wherever it is shown.
"""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination, PageNumberPagination

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
PAGE_SIZE_DESCRIPTION = (f"Rows per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE}: a larger value is "
                         f"capped to {MAX_PAGE_SIZE}).")


class StandardPagination(PageNumberPagination):
    """Page numbers, for small reference lists (organisations, SRVs, measures)."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = PAGE_SIZE_DESCRIPTION
    max_page_size = MAX_PAGE_SIZE


class KeysetPagination(CursorPagination):
    """For tables of millions of rows and every list that grows without bound: no COUNT(*), and a
    cursor (not a page number) so rows inserted while a client walks the list neither repeat nor
    hide a row. Newest first."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = PAGE_SIZE_DESCRIPTION
    max_page_size = MAX_PAGE_SIZE
    ordering = "-pk"


class AscendingKeysetPagination(KeysetPagination):
    """A cursor over a list read in insertion order (a batch's rows, oldest first)."""

    ordering = "pk"


def keyset_page(queryset: QuerySet[Any], *, before: Any = None, size: int = PAGE_SIZE,
                key: str = "id", descending: bool = True, numeric: bool = True) -> tuple[list[Any], Any]:
    """One page of ``queryset``, newest ``key`` first, of the rows whose ``key`` is below
    ``before`` (a page's URL carries it as text; anything that is not a number means "from the
    start"): ``(rows, next_before)``, ``next_before`` being None on the last page.

    No COUNT: the page asks for one row more than it shows to know whether another page exists.
    ``queryset`` may be of model instances or of named ``values_list`` rows (the device list's),
    which is why the key is read by name and not as ``pk``. ``descending=False`` walks the other
    way (``before`` is then the last key shown, the next page's rows above it); ``numeric=False``
    is for a unique text key (the device list sorted by device id), taken as given, bounded.
    """
    queryset = queryset.order_by(f"-{key}" if descending else key)
    bound = _as_key(before) if numeric else (str(before)[:100] if before else None)
    if bound is not None:
        queryset = queryset.filter(**{f"{key}__{'lt' if descending else 'gt'}": bound})
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (getattr(rows[-1], key) if more else None)


def _as_key(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

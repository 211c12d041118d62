"""A register's table and the state of its list page: columns, sort, page size, count, selection.

Everything a person can put in the query string is bounded here: a sort that is not declared is
the default sort, a page size that is not offered is the default size, a selection is at most
``BULK_LIMIT`` whole numbers, all of them rows the person may change (else 404).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import django_tables2 as tables
from django import forms
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections, models
from django.http import Http404, QueryDict

from portal.scoping import CHANGE, scope

PAGE_SIZES = (25, 50, 100, 250)
# the most rows one bulk action changes: a form of checkboxes, never the whole register
BULK_LIMIT = 500
# below this many rows a count is exact (a bounded COUNT over at most this many index entries)
EXACT_UP_TO = 1000
# what the query string may not carry into links the page makes (where the list happened to be)
PLACE_PARAMS = ("page", "before", "after", "export", "csrfmiddlewaretoken")

TABLES: dict[str, type[Table]] = {}


class Table(tables.Table):
    """A register's columns (django-tables2), declared once per list.

    Declare on the subclass: ``name`` (unique; the key of the person's remembered columns),
    ``default_columns`` (shown until the person chooses), ``sorts`` (column name -> the field it
    orders by; no other sort is accepted; on keyset-paginated lists only unique, indexed fields),
    ``default_sort`` (a key of ``sorts``, "-" for descending: newest first where time matters),
    ``fixed`` (columns always shown, such as the row's link) and optionally ``export_fields``
    (column name -> the export columns it stands for, when the list exports with its own
    ``export_columns``/``export_row``).
    """

    # the row's checkbox for the list's bulk actions (hidden when the person may take none)
    select = tables.CheckBoxColumn(accessor="pk", verbose_name="Select",
                                   attrs={"td__input": {"name": "pk", "aria-label": "Select this row"}})

    name: ClassVar[str] = ""
    default_columns: ClassVar[tuple[str, ...]] = ()
    fixed: ClassVar[tuple[str, ...]] = ()
    sorts: ClassVar[dict[str, str]] = {}
    default_sort: ClassVar[str] = ""
    export_fields: ClassVar[dict[str, tuple[str, ...]]] = {}

    class Meta:
        orderable = False  # the headers' links are the list's own (only declared sorts)
        attrs = {"class": "list"}
        empty_text = "Nothing matches."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in TABLES and TABLES[cls.name].__qualname__ != cls.__qualname__:
                raise ValueError(f"two list tables named {cls.name!r}")
            TABLES[cls.name] = cls

    @classmethod
    def choosable(cls) -> list[str]:
        """Every column a person may show or hide, in the table's order."""
        return [name for name in cls.base_columns if name != "select"]

    @classmethod
    def shown(cls, chosen: Iterable[str] | None) -> list[str]:
        names = cls.choosable()
        wanted = set(chosen if chosen else (cls.default_columns or names)) | set(cls.fixed)
        return [name for name in names if name in wanted]


def chosen_columns(user: Any, table_class: type[Table]) -> list[str]:
    """The columns ``user`` chose for the table (one query), or its defaults."""
    from portal.lists.models import ListPreference

    chosen = None
    if getattr(user, "is_authenticated", False):
        chosen = ListPreference.objects.filter(user=user, table=table_class.name).values_list(
            "columns", flat=True).first()
    return table_class.shown(chosen if isinstance(chosen, list) else None)


def chosen_sort(value: str | None, table_class: type[Table]) -> tuple[str, bool]:
    """``(column, descending)`` of ``?sort=``: only a declared sort, else the table's default."""
    for candidate in (value or "", table_class.default_sort):
        name = candidate[1:] if candidate.startswith("-") else candidate
        if name in table_class.sorts:
            return name, candidate.startswith("-")
    return "", True


def page_size(value: str | None, default: int) -> int:
    """``?per_page=``: one of PAGE_SIZES, anything else the default."""
    try:
        size = int(value or "")
    except ValueError:
        return default
    return size if size in PAGE_SIZES else default


@dataclass(frozen=True)
class Count:
    """How many rows the filters select: exact, or the planner's estimate ("about N")."""

    value: int
    estimated: bool = False

    def __str__(self) -> str:
        shown = f"{self.value:,}"
        return f"about {shown}" if self.estimated else shown


def result_count(queryset: models.QuerySet[Any], *, estimate: bool) -> Count:
    """The count of ``queryset``. Exact on small lists, and on large ones (``estimate``) when at
    most EXACT_UP_TO rows match (a bounded COUNT: it stops after that many). Beyond, on
    PostgreSQL, the planner's estimate of the filtered query (EXPLAIN; for an unfiltered table
    that is its reltuples): never COUNT(*) over millions of rows. SQLite counts exactly."""
    queryset = queryset.order_by()
    if not estimate or connections[queryset.db].vendor != "postgresql":
        return Count(queryset.count())
    # both queries every time, so that a page's query count does not depend on how many match
    bounded = queryset.values("pk")[: EXACT_UP_TO + 1].count()
    planned = planner_estimate(queryset)
    if bounded <= EXACT_UP_TO:
        return Count(bounded)
    return Count(max(planned, EXACT_UP_TO + 1), estimated=True)


def planner_estimate(queryset: models.QuerySet[Any]) -> int:
    """PostgreSQL's estimate of the rows of ``queryset`` (EXPLAIN, nothing run)."""
    try:
        sql, params = queryset.values("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing (none()): no query to explain
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def bulk_ids(data: QueryDict, *, limit: int = BULK_LIMIT, name: str = "pk") -> list[int]:
    """The rows a bulk action's form selected: whole numbers, at least one, at most ``limit``."""
    values = data.getlist(name)
    if not values:
        raise ValidationError({name: "Select at least one row."})
    if len(values) > limit:
        raise ValidationError({name: f"At most {limit} rows at once ({len(values)} selected)."})
    ids: list[int] = []
    for value in values:
        if not value.isdigit() or len(value) > 18:
            raise ValidationError({name: f"{value[:20]!r} is not a row of this list."})
        ids.append(int(value))
    return sorted(set(ids))


def selected(user: Any, queryset: models.QuerySet[Any], ids: Sequence[int],
             action: str = CHANGE) -> models.QuerySet[Any]:
    """The selected rows as a queryset scoped for ``action``: a single id the person may not
    change (another organisation's, or none at all) refuses the whole action as 404."""
    rows = scope(user, queryset, action).filter(pk__in=ids)
    if rows.count() != len(ids):
        raise Http404("No such rows")
    return rows


_LOOKUP_WORDS = {"is greater than or equal to": "from", "is less than or equal to": "until",
                 "is greater than": "after", "is less than": "before", "contains": "contains"}


def humanise_filter_form(form: forms.Form) -> forms.Form:
    """The filter form as people read it: "Any" for an empty choice (not "---------"), a date
    picker for every date, labels without django-filter's lookup words."""
    for name, form_field in form.fields.items():
        if getattr(form_field, "empty_label", None) is not None:  # django-filters' and model choices
            form_field.empty_label = "Any"  # type: ignore[attr-defined]
            if isinstance(form_field, forms.ChoiceField) and not isinstance(form_field, forms.ModelChoiceField):
                form_field.widget.choices = form_field.choices  # its iterator reads the label again
        elif isinstance(form_field, forms.ChoiceField):
            form_field.choices = [("", "Any") if value == "" else (value, label)
                                  for value, label in form_field.choices]
        if isinstance(form_field, forms.DateTimeField | forms.DateField) and isinstance(
                form_field.widget, forms.DateInput | forms.DateTimeInput | forms.TextInput):
            form_field.widget.input_type = "date"
            form_field.input_formats = ["%Y-%m-%d", *(getattr(form_field, "input_formats", None) or [])]
        label = str(form_field.label or name.replace("_", " ").capitalize())
        for words, short in _LOOKUP_WORDS.items():
            if label.endswith(f" {words}"):
                label = f"{label[: -len(words) - 1]} {short}" if short != "contains" else label
        form_field.label = label
    return form


@dataclass
class Header:
    name: str
    label: str
    url: str = ""  # the link that sorts by it (empty: not sortable)
    sorted: str = ""  # "ascending", "descending" or ""


@dataclass
class Listing:
    """What templates/partials/list.html draws: the table and the controls around it."""

    table: Table
    table_name: str
    headers: list[Header]
    columns: list[tuple[str, str, bool]]  # (name, header, shown) for the column chooser
    fixed: tuple[str, ...]
    count: Count | None
    per_page: int
    page_sizes: Sequence[int]
    query: str  # the query string without the list's place (filters, sort, size)
    hidden_params: list[tuple[str, str]]  # the same, for forms that keep them
    export_formats: Sequence[str] = ()
    bulk_template: str = ""
    bulk_context: dict[str, Any] = field(default_factory=dict)
    selectable: bool = False
    previous_url: str = ""
    next_url: str = ""
    first_url: str = ""
    path: str = ""
    next_label: str = "Next page"

    def with_query(self, **params: str) -> str:
        query = QueryDict(self.query, mutable=True)
        for key, value in params.items():
            query[key] = value
        return f"?{query.urlencode()}"

    @property
    def export_links(self) -> list[tuple[str, str]]:
        return [(fmt.upper(), self.with_query(export=fmt)) for fmt in self.export_formats]


def place_free_query(query: QueryDict, also: Iterable[str] = ()) -> QueryDict:
    kept = query.copy()
    for name in (*PLACE_PARAMS, *also):
        kept.pop(name, None)
    return kept


def build_headers(table: Table, query: QueryDict, sort: str, descending: bool) -> list[Header]:
    sorts = type(table).sorts
    headers = []
    for column in table.columns:
        label = str(column.header)
        if column.name == "select" or column.name not in sorts:
            headers.append(Header(column.name, label))
            continue
        # the first click sorts ascending (descending for the default's own column, newest first)
        now = "descending" if (column.name == sort and descending) else (
            "ascending" if column.name == sort else "")
        flip = "" if now == "descending" else "-"
        if not now:
            flip = "-" if type(table).default_sort == f"-{column.name}" else ""
        link = query.copy()
        link["sort"] = f"{flip}{column.name}"
        headers.append(Header(column.name, label, f"?{link.urlencode()}", now))
    return headers

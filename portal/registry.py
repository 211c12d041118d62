"""The ground's registries: what the feature apps add to the pages every app shares.

The ground (``portal``) draws the dashboard, the search page, the navigation, the webhook
subscription list and the report list, but it never names a feature: each app registers what
it adds from its own modules, imported in its ``AppConfig.ready()`` (as NetBox's
``register_search`` and its dashboard widget registry do):

- ``<app>/tiles.py``: dashboard tiles, ``register_tile(Tile(...))``, drawn by portal.dashboard;
- ``<app>/search.py``: search providers, ``register_search(SearchProvider(...))``, asked by
  portal.search;
- ``<app>/navigation.py``: sidebar sections and links, ``register_nav_section(NavSection(...))``
  and ``register_nav_entry(NavEntry(...))``, drawn by portal.context_processors;
- ``<app>/events.py``: the events the app publishes, ``register_event(Event(...))``, checked by
  portal.events.publish and offered by the webhook subscription form and API;
- ``<app>/reports.py``: the app's reports, ``register_report(Report(...))``, listed by the
  navigation;
- ``<app>/schedules.py``: the app's django-q2 schedules, ``register_schedule(Schedule(...))``,
  created or updated by name by ``manage.py setup_schedules``.

An app has only the modules it needs. A key registered twice (a tile slug, a search kind, an
event name...) raises ImproperlyConfigured at start-up: two apps never shadow each other
silently. Every registry lists its items by ``weight``, then in registration order (the order
of INSTALLED_APPS), so the pages keep a stable order whichever app registers first.

Audiences are names of ``portal.access.AUDIENCES`` (the role predicates ``user.is_dcc``,
``user.is_dcc_admin``, ``user.is_service_user``, ``user.is_sdag_member``, plus
"authenticated"): an item is shown to a person in any of its audiences.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils import timezone

from portal.access import AUDIENCES

if TYPE_CHECKING:
    from django.http import HttpRequest

    from portal.search import Result
    from portal.types import Viewer


class _Weighted(Protocol):
    @property
    def weight(self) -> int: ...


Item = TypeVar("Item", bound=_Weighted)


def _check_audience(what: str, audience: tuple[str, ...]) -> None:
    if not audience:
        raise ImproperlyConfigured(f"{what} names no audience")
    unknown = [name for name in audience if name not in AUDIENCES]
    if unknown:
        raise ImproperlyConfigured(f"{what}: unknown audience {', '.join(unknown)} (see portal.access.AUDIENCES)")


def _shown_to(audience: tuple[str, ...], user: Viewer) -> bool:
    return any(AUDIENCES[name](user) for name in audience)


class _ForAudience:
    """What is shown to an ``audience`` (names of portal.access.AUDIENCES): checked when it is
    declared (an unknown or empty audience is a configuration error naming the ``noun`` and the
    field ``named_by``), and ``visible_to(user)`` when a page draws it."""

    audience: tuple[str, ...]
    noun: ClassVar[str]
    named_by: ClassVar[str] = "slug"

    def __post_init__(self) -> None:
        _check_audience(f"{self.noun} {getattr(self, self.named_by)}", self.audience)

    def visible_to(self, user: Viewer) -> bool:
        return _shown_to(self.audience, user)


class Registry(Generic[Item]):
    """Items of one kind, each under a unique key. Iterating gives them by weight, then in the
    order they were registered."""

    def __init__(self, what: str, key: Callable[[Item], str]) -> None:
        self.what = what
        self._key = key
        self._items: dict[str, Item] = {}

    def register(self, item: Item) -> Item:
        key = self._key(item)
        if key in self._items:
            raise ImproperlyConfigured(f"{self.what} {key!r} is registered twice")
        self._items[key] = item
        return item

    def get(self, key: str) -> Item | None:
        return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[Item]:
        # sorted() is stable: equal weights keep their registration order.
        return iter(sorted(self._items.values(), key=lambda item: item.weight))

    def __len__(self) -> int:
        return len(self._items)

    @contextmanager
    def registered(self, item: Item) -> Iterator[Item]:
        """Register ``item`` for the duration of a ``with`` block (tests of the mechanism)."""
        self.register(item)
        try:
            yield item
        finally:
            del self._items[self._key(item)]

    @contextmanager
    def emptied(self) -> Iterator[None]:
        """Nothing registered for the duration of a ``with`` block (tests of the mechanism)."""
        saved, self._items = self._items, {}
        try:
            yield
        finally:
            self._items = saved


# --- dashboard tiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile(_ForAudience):
    """One box of the home page. ``context(user, now)`` returns the template's context; it reads
    only rows the user may see (through portal.scoping.scope) and keeps its query count
    independent of the data size. ``template`` extends ``portal/partials/tile_base.html``;
    htmx refreshes the tile in place every ``refresh`` (GET /dashboard/tiles/<slug>/)."""

    slug: str
    title: str
    audience: tuple[str, ...]
    context: Callable[[Viewer, dt.datetime], dict[str, Any]]
    template: str
    wide: bool = False  # spans the grid: tables and charts that need the room
    chart: bool = False  # holds a plotly figure: the page loads plotly.js
    refresh: str = "30s"
    weight: int = 0
    noun: ClassVar[str] = "tile"

    def render(self, request: HttpRequest, now: dt.datetime | None = None) -> str:
        # Without the request: a tile needs only its own context, and rendering with it ran every
        # context processor (the navigation's ~20 url reversals among them) once per tile.
        context = {"tile": self, **self.context(request.user, now or timezone.now())}
        return render_to_string(self.template, context)


# --- search providers --------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchProvider:
    """One kind of result of the global search. ``find(user, query)`` returns a list of
    ``portal.search.Result`` the user may see (at most ``portal.search.PER_KIND``).

    ``key`` providers answer exact operational keys (device ids, request ids...) from unique
    indexes; they are asked first, and when one answers, the free-text providers are not asked
    (a device id is never a document title, and a key search stays a few queries)."""

    kind: str
    label: str
    find: Callable[[Viewer, str], list[Result]]
    key: bool = False
    weight: int = 0


# --- navigation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavSection:
    """A heading of the sidebar; entries and reports name it by ``slug``."""

    slug: str
    title: str
    weight: int = 0


@dataclass(frozen=True)
class NavEntry(_ForAudience):
    """One link of the sidebar, under section ``section``, to the page named ``url_name``."""

    section: str
    label: str
    url_name: str
    audience: tuple[str, ...]
    weight: int = 0
    # A further condition for pages the audience alone does not open (Django's admin pages: the
    # person must be staff with the model's permission); None: the audience is enough.
    requires: Callable[[Viewer], bool] | None = None
    noun: ClassVar[str] = "navigation entry"
    named_by: ClassVar[str] = "url_name"

    def visible_to(self, user: Viewer) -> bool:
        return super().visible_to(user) and (self.requires is None or self.requires(user))


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """An event an app publishes through ``portal.events.publish``. ``webhook``: offered in the
    webhook subscription list (the others reach only the people named or watching, and
    endpoints subscribed to every event with "*"). ``data``: the JSON schema of the envelope's
    ``data`` member, declared by the app that publishes the event (see ``portal.eventschema``:
    the API schema documents it for webhook receivers and the tests validate every publish)."""

    name: str
    description: str
    webhook: bool = False
    weight: int = 0
    data: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)


# --- reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report(_ForAudience):
    """A report an app publishes: its page is ``url_name``; the navigation lists it under
    ``section`` for its ``audience``."""

    slug: str
    title: str
    url_name: str
    audience: tuple[str, ...]
    section: str
    weight: int = 0
    noun: ClassVar[str] = "report"


# --- schedules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """One django-q2 schedule: ``func`` is the task's dotted path (so registering imports no task
    module), ``schedule_type`` a ``django_q.models.Schedule`` code ("I" every ``minutes``, "D"
    daily, "W" weekly, "C" ``cron``), ``next_run`` a function giving the first run (computed when
    ``setup_schedules`` runs, in London time where a day is meant). ``name`` is the key
    ``setup_schedules`` updates by: renaming one leaves the old row behind."""

    name: str
    func: str
    schedule_type: str
    minutes: int | None = None
    cron: str | None = None
    next_run: Callable[[], dt.datetime] | None = None
    weight: int = 0

    def fields(self) -> dict[str, Any]:
        """The django_q Schedule fields, as ``Schedule.objects.update_or_create`` takes them."""
        fields: dict[str, Any] = {"func": self.func, "schedule_type": self.schedule_type}
        if self.minutes is not None:
            fields["minutes"] = self.minutes
        if self.cron is not None:
            fields["cron"] = self.cron
        if self.next_run is not None:
            fields["next_run"] = self.next_run()
        return fields


TILES: Registry[Tile] = Registry("dashboard tile", key=lambda tile: tile.slug)
SEARCH_PROVIDERS: Registry[SearchProvider] = Registry("search provider", key=lambda provider: provider.kind)
NAV_SECTIONS: Registry[NavSection] = Registry("navigation section", key=lambda section: section.slug)
NAV_ENTRIES: Registry[NavEntry] = Registry("navigation entry", key=lambda entry: entry.url_name)
EVENTS: Registry[Event] = Registry("event", key=lambda event: event.name)
REPORTS: Registry[Report] = Registry("report", key=lambda report: report.slug)
SCHEDULES: Registry[Schedule] = Registry("schedule", key=lambda schedule: schedule.name)


# What each app calls from its own modules (register_tile(Tile(...)) in <app>/tiles.py, ...): the
# registry's own register, which refuses a key registered twice and returns what it registered.
register_tile = TILES.register
register_search = SEARCH_PROVIDERS.register
register_nav_section = NAV_SECTIONS.register
register_nav_entry = NAV_ENTRIES.register
register_event = EVENTS.register
register_report = REPORTS.register
register_schedule = SCHEDULES.register


def webhook_event_choices() -> list[tuple[str, str]]:
    """(name, description) of the events webhook endpoints may subscribe to, in order."""
    return [(event.name, event.description) for event in EVENTS if event.webhook]

"""Breadcrumbs and the page's <title>, derived once for every page from what the site already
declares, so no template lists its own trail:

- the navigation (``portal.context_processors.navigation_for``: each app's ``navigation.py``)
  gives the section and the list page: the page itself when it is a link of the sidebar, else
  the link whose address is the longest prefix of the page's (``/inventory/devices/<id>/``
  sits under Devices), else the link whose view declares the model of the page's object;
- the object: the one a generic view fetched (``portal.generic.ObjectFetchMixin``), else the
  one a function view declared with ``trail_through(request, obj)``, else the object of the
  route's declared model (``view_of``) that the page's context holds;
- the page's own title (its ``{% block title %}``) ends the trail when the page is not the
  list or the object's own page (an edit page: Devices › SMETS2 meter 00-… › Edit …).

Only links of the person's own navigation are offered, so a crumb never leads to a page the
person may not open. The ground names no app: everything comes from the registries and the
views' declarations.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.urls import Resolver404, resolve, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

if TYPE_CHECKING:
    from django.db import models
    from django.http import HttpRequest
    from django.template.context import Context

# the attribute of the request that holds the page's object (set by the generic views and
# trail_through)
OBJECT_ATTR = "portal_trail_object"


@dataclass(frozen=True)
class Crumb:
    """One step of the trail: a link (``url``) or, without one, the current page or a section."""

    label: str
    url: str = ""


def trail_through(request: HttpRequest, obj: models.Model) -> None:
    """Declare that a function view's page belongs to ``obj`` (its trail runs through the
    object's own page), when the route's declared model is not the object's or the page's
    context does not hold it."""
    setattr(request, OBJECT_ATTR, obj)


@lru_cache(maxsize=512)
def _declared_model(url: str) -> Any:
    """The model the view at ``url`` declares (portal.generic), or None."""
    from portal.generic import declaration_of

    try:
        match = resolve(url)
    except Resolver404:
        return None
    declaration = declaration_of(match.func)
    return declaration.model if declaration is not None else None


def page_object(request: HttpRequest, context: Context | dict[str, Any]) -> Any:
    """The object the page is about, or None (a list, a form of no object, the dashboard)."""
    declared = getattr(request, OBJECT_ATTR, None)
    if declared is not None:
        return declared
    match = getattr(request, "resolver_match", None)
    if match is None or not match.kwargs:
        return None  # a route that names no object is about none
    from portal.generic import declaration_of

    declaration = declaration_of(match.func)
    model = declaration.model if declaration is not None else None
    if model is None:
        return None
    values = context.flatten() if hasattr(context, "flatten") else dict(context)
    candidates = [values.get("object"), *values.values()]
    for value in candidates:
        if isinstance(value, model) and value.pk is not None:
            return value
    return None


def _object_url(obj: Any) -> str:
    try:
        return str(obj.get_absolute_url()) if hasattr(obj, "get_absolute_url") else ""
    except Exception:  # noqa: BLE001 - an object without an address of its own is shown unlinked
        return ""


def _list_link(navigation: list[dict[str, Any]], path: str, obj: Any) -> tuple[str, dict[str, Any]] | None:
    """(section title, link) of the page's place in the person's navigation."""
    links = [(section["title"], link) for section in navigation for link in section["links"]]
    for section, link in links:
        if link["url"] == path:
            return section, link
    home = reverse("home")
    under = [(section, link) for section, link in links if link["url"] != home and path.startswith(link["url"])]
    if under:
        return max(under, key=lambda pair: len(pair[1]["url"]))
    if obj is not None:
        for section, link in links:
            if _declared_model(link["url"]) is type(obj):
                return section, link
    return None


def trail(request: HttpRequest, context: Context | dict[str, Any], title: str = "") -> list[Crumb]:
    """The page's breadcrumbs: section › list › object › this page (what applies)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    from portal.context_processors import navigation_for

    navigation = context.get("navigation")
    if navigation is None:
        navigation = navigation_for(user)
    path = request.path
    obj = page_object(request, context)
    crumbs: list[Crumb] = []
    place = _list_link(navigation, path, obj)
    if place is not None:
        section, link = place
        crumbs.append(Crumb(section))
        crumbs.append(Crumb(link["label"], "" if link["url"] == path else link["url"]))
        if link["url"] == path:
            return crumbs
    else:
        crumbs.append(Crumb("Dashboard", reverse("home")))
    url = _object_url(obj) if obj is not None else ""
    if url:  # an object with no page of its own adds no step: the page's title names it
        crumbs.append(Crumb(str(obj), "" if url == path else url))
        if url == path:
            return crumbs
    if title:
        crumbs.append(Crumb(title))
    return crumbs


def page_title(request: HttpRequest, context: Context | dict[str, Any], title: SafeString | str) -> SafeString:
    """The <title>'s page part: the template's own title, made to name the object on the
    object's own page ("RAID-004 Consultation timetable" rather than "RAID-004")."""
    title = mark_safe(title.strip()) if isinstance(title, SafeData) else conditional_escape(title.strip())  # noqa: S308
    obj = page_object(request, context)
    if obj is None or _object_url(obj) != request.path:
        return mark_safe(title)  # noqa: S308 - escaped above
    name = conditional_escape(str(obj))
    if name in title:
        return mark_safe(title)  # noqa: S308 - escaped above
    if not title or title in name:
        return mark_safe(name)  # noqa: S308 - escaped
    return mark_safe(f"{title} · {name}")  # noqa: S308 - both escaped

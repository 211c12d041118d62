"""Site-wide template context: the navigation, from the registered sections, entries and reports
(portal.registry; each app registers its own in ``<app>/navigation.py`` and ``<app>/reports.py``).
A person sees the links of their audiences; a section with no link for them is left out."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from portal.registry import NAV_ENTRIES, NAV_SECTIONS, REPORTS


def navigation_for(user: Any) -> list[dict[str, Any]]:
    """[{"title", "links": [{"label", "url"}]}] in section order, then link order (weights)."""
    if not user.is_authenticated:
        return []
    links: dict[str, list[tuple[int, str, str]]] = {}
    # Reports first at equal weight: a report is the reason its section exists.
    for report in REPORTS:
        if report.visible_to(user):
            links.setdefault(report.section, []).append((report.weight, report.title, report.url_name))
    for entry in NAV_ENTRIES:
        if entry.visible_to(user):
            links.setdefault(entry.section, []).append((entry.weight, entry.label, entry.url_name))
    unknown = set(links) - {section.slug for section in NAV_SECTIONS}
    if unknown:
        raise LookupError(f"navigation links name unregistered sections: {', '.join(sorted(unknown))}")
    sections = []
    for section in NAV_SECTIONS:
        entries = sorted(links.get(section.slug, []), key=lambda link: link[0])
        if entries:
            sections.append({"title": section.title,
                             "links": [{"label": label, "url": reverse(name)} for _weight, label, name in entries]})
    return sections


def portal(request: HttpRequest) -> dict[str, Any]:
    from portal.sso import enabled

    # sso_enabled: the login page offers DCC's single sign-on only when it is configured.
    return {"navigation": navigation_for(request.user), "sso_enabled": enabled()}

"""Reads of the inventory app that more than one caller uses."""
from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.core.exceptions import ValidationError
from django.db.models import CharField, F, OuterRef, Subquery, Value

from inventory.models import Device
from portal.ids import normalise_eui64
from portal.scoping import VIEW, grant_for, scope

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from django.db.models import Q, QuerySet

    from inventory.models import ConfigurationItem, ItemRelationship
    from portal.types import Viewer

# One affected item and the path to it: [(item, relationship that reached it)], the first step's
# relationship None.
Impact: TypeAlias = "tuple[ConfigurationItem, list[tuple[ConfigurationItem, ItemRelationship | None]]]"


def device_by_any_id(value: str | None) -> Device | None:
    """The device named by ``value`` in any accepted EUI-64 form, or None when the value is
    malformed or no such device exists. Not scoped: callers scope what they show."""
    try:
        canonical = normalise_eui64(value)
    except (ValidationError, TypeError):
        return None
    return Device.objects.filter(device_id=canonical).select_related("supplier", "model", "hub").first()


# --- hub ids: who may read which ---------------------------------------------------------------
# A device may be joined to a hub another supplier manages (a gas supplier's meter on the
# electricity supplier's communications hub). The hub's id is that supplier's business: a person
# sees a hub's id only where they may see the hub itself (scope: a supplier its own devices, DCC
# every one). Lists, exports, the API and the hub filter all read it through these functions.

def with_hub_seen_by(queryset: QuerySet[Device], user: Viewer) -> QuerySet[Device]:
    """``queryset`` with ``hub_seen``: each device's hub id where ``user`` may see that hub, else
    None (no hub, or another supplier's). One query still: a subquery on the hub's key."""
    grant = grant_for(user, Device, VIEW)
    if grant is True:
        return queryset.annotate(hub_seen=F("hub__device_id"))
    if grant is None:
        return queryset.annotate(hub_seen=Value(None, output_field=CharField()))
    seen = Device.objects.filter(grant, pk=OuterRef("hub_id")).values("device_id")[:1]
    return queryset.annotate(hub_seen=Subquery(seen, output_field=CharField()))


def hub_seen_by(user: Viewer, device: Device) -> str | None:
    """The id of ``device``'s hub if ``user`` may see that hub (None otherwise, or without a hub)."""
    if hasattr(device, "hub_seen"):  # annotated by with_hub_seen_by
        seen: str | None = device.hub_seen
        return seen
    if device.hub_id is None:
        return None
    return scope(user, Device.objects.filter(pk=device.hub_id)).values_list("device_id", flat=True).first()


def hubs_seen_by(user: Viewer) -> QuerySet[Device]:
    """The devices whose id ``user`` may name as a hub (the hub filter matches these only)."""
    return scope(user, Device.objects.all())


def device_search_q(text: str | None) -> Q | None:
    """A filter for the search box: a device id in any form, or an MPAN/MPRN (exact, so it is
    an index lookup at a million rows). None when the text can be neither."""
    from django.db.models import Q

    text = (text or "").strip()
    if not text:
        return None
    try:
        return Q(device_id=normalise_eui64(text))
    except ValidationError:
        pass
    digits = text.replace(" ", "").replace("-", "").replace("/", "").lstrip("Ss")
    if digits.isdigit() and 6 <= len(digits) <= 13:
        return Q(mpxn=digits)
    if digits.isdigit() and len(digits) == 21:
        return Q(mpxn=digits[8:])  # a full MPAN: the register is keyed by its core
    return None


# --- Impact analysis over the configuration item graph ---------------------------------------
#
# "What is affected if X fails or changes". A link "A depends on / connects to / is documented
# by B" makes A affected when B fails or changes; "A part of B" makes the whole B affected when
# its part A fails. Breadth-first search gives each affected item once (diamonds) with the
# shortest path to it, and the visited set stops cycles from looping.

def _affects(relationship: ItemRelationship) -> tuple[int, int]:
    """(changed item id, affected item id) for one relationship."""
    from inventory.choices import RelationshipKind

    if relationship.kind == RelationshipKind.PART_OF:
        return relationship.source_id, relationship.target_id
    return relationship.target_id, relationship.source_id


def impact_of(item: ConfigurationItem) -> list[Impact]:
    """[(affected item, path)] for every item transitively affected by ``item``, nearest first;
    ``path`` is [(item, relationship)...] from ``item`` to the affected one (the first step's
    relationship is None). Loads the edges in one query and the items in one more."""
    from collections import deque

    from inventory.models import ConfigurationItem, ItemRelationship

    graph: dict[int, list[tuple[int, ItemRelationship]]] = {}
    for relationship in ItemRelationship.objects.only("id", "source_id", "target_id", "kind"):
        changed, affected = _affects(relationship)
        graph.setdefault(changed, []).append((affected, relationship))
    parent: dict[int, tuple[int, ItemRelationship] | None] = {item.pk: None}
    order = []
    queue = deque([item.pk])
    while queue:
        current = queue.popleft()
        for affected, relationship in sorted(graph.get(current, []), key=lambda e: e[0]):
            if affected in parent:
                continue
            parent[affected] = (current, relationship)
            order.append(affected)
            queue.append(affected)
    items = ConfigurationItem.objects.in_bulk([item.pk, *order])
    results: list[Impact] = []
    for pk in order:
        steps: list[tuple[ConfigurationItem, ItemRelationship | None]] = []
        node = pk
        while (step := parent[node]) is not None:
            previous, relationship = step
            # Both ends are on the path: attach them so that templates read no more rows.
            relationship.source = items[relationship.source_id]
            relationship.target = items[relationship.target_id]
            steps.append((items[node], relationship))
            node = previous
        steps.append((items[item.pk], None))
        results.append((items[pk], list(reversed(steps))))
    return results


def impact_layout(item: ConfigurationItem, results: list[Impact]) -> dict[int, tuple[float, float]]:
    """Where each item of the impact graph is drawn: a layered layout (as Sugiyama's, by hand). The
    changed item is column 0, each affected item sits in the column of its distance; within a
    column items are ordered by the mean row of the items that reach them (the barycentre), which
    keeps the lines from crossing, and spread one row apart about the middle."""
    parents: dict[int, int] = {}
    columns: dict[int, list[int]] = {0: [item.pk]}
    for affected, path in results:
        columns.setdefault(len(path) - 1, []).append(affected.pk)
        parents[affected.pk] = path[-2][0].pk
    position: dict[int, tuple[float, float]] = {item.pk: (0.0, 0.0)}
    for column in sorted(columns)[1:]:
        pks = columns[column]
        # Python's sort is stable: items reached from the same parent keep the search's order.
        pks.sort(key=lambda pk: position[parents[pk]][1], reverse=True)
        for index, pk in enumerate(pks):
            position[pk] = (float(column), (len(pks) - 1) / 2 - index)
    return position


def impact_figure(item: ConfigurationItem, results: list[Impact]) -> go.Figure:
    """A plotly figure of the impact graph (the site's chart template): the changed item on the
    left in red, each affected item in a column by its distance (impact_layout), an arrow along
    each step of the paths found, the relationship named where the pointer rests on a line."""
    import plotly.graph_objects as go

    from portal import charts

    position = impact_layout(item, results)
    names = {item.pk: item.name, **{a.pk: a.name for a, _ in results}}
    depth = {item.pk: 0, **{a.pk: len(path) - 1 for a, path in results}}
    figure = charts.figure()
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    middles: dict[str, list] = {"x": [], "y": [], "text": []}
    for affected, path in results:
        previous, relationship = path[-2][0], path[-1][1]
        (x0, y0), (x1, y1) = position[previous.pk], position[affected.pk]
        edge_x += [x0, x1, None]
        edge_y += [y0, y1, None]
        middles["x"].append((x0 + x1) / 2)
        middles["y"].append((y0 + y1) / 2)
        middles["text"].append(
            f"{relationship.source.name} {relationship.get_kind_display()} {relationship.target.name}"
            if relationship is not None else affected.name)
        figure.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                              showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.2,
                              arrowcolor=charts.COLOURS["grey"], standoff=9, startstandoff=9)
    figure.add_trace(go.Scatter(x=edge_x, y=edge_y, mode="lines", line={"color": charts.LINE, "width": 1.5},
                                hoverinfo="skip", showlegend=False))
    figure.add_trace(go.Scatter(x=middles["x"], y=middles["y"], mode="markers", text=middles["text"],
                                marker={"size": 8, "opacity": 0}, hovertemplate="%{text}<extra></extra>",
                                showlegend=False))
    order = list(names)
    figure.add_trace(go.Scatter(
        x=[position[pk][0] for pk in order], y=[position[pk][1] for pk in order], mode="markers+text",
        text=[names[pk] for pk in order], textposition="top center", showlegend=False,
        customdata=[depth[pk] for pk in order],
        hovertemplate="%{text}<br>%{customdata} step(s) from the change<extra></extra>",
        marker={"size": 16, "line": {"width": 2, "color": charts.CARD},
                "color": [charts.COLOURS["red"] if pk == item.pk else charts.COLOURS["brand"] for pk in order]},
    ))
    tallest = max(sum(1 for pk in order if position[pk][0] == column) for column in set(depth.values()))
    widest = max(depth.values())
    figure.update_layout(
        height=max(320, 80 * tallest + 80), margin={"l": 20, "r": 20, "t": 48, "b": 20},
        xaxis={"visible": False, "range": [-0.9, widest + 0.9]},  # room for the end columns' labels
        yaxis={"visible": False, "range": [-(tallest / 2) - 0.2, tallest / 2 + 0.4]},
        title=f"Affected if {item.name} fails or changes", hovermode="closest",
    )
    return figure

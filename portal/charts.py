"""The site's one plotly template: every chart in the portal looks like the pages around it.

Feature apps build their figures with ``figure(...)`` (the template applied by name) and give count
axes ``count_axis(top)`` (whole-number ticks: there is no half an incident). The template is
registered in plotly.io.templates once, when this module is first imported; the fonts and colours
are those of static/css/portal.css (kept in step by tests/portal/test_charts.py).
"""
from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

NAME = "portal"
# static/css/portal.css :root
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
INK, MUTED, LINE, CARD = "#1d2433", "#5b6475", "#d9dee7", "#fff"
COLOURS = {"brand": "#00558c", "green": "#1f7a3d", "amber": "#a05a00", "red": "#b3261e", "purple": "#5b3f99",
           "grey": "#5b6475"}
# Lines and bars in this order; the first six are the site's badge colours, then two that stay
# apart from them, so a twelve-line chart still tells its lines apart by colour and marker.
COLORWAY = [COLOURS["brand"], COLOURS["green"], COLOURS["amber"], COLOURS["purple"], COLOURS["red"], COLOURS["grey"],
            "#0f8b8d", "#c2185b"]

_AXIS = {"gridcolor": LINE, "linecolor": LINE, "zerolinecolor": LINE, "tickcolor": LINE, "automargin": True,
         "title": {"font": {"size": 12, "color": MUTED}}}

TEMPLATE = go.layout.Template(layout={
    "font": {"family": FONT, "size": 13, "color": INK},
    "title": {"font": {"size": 15, "color": INK}, "x": 0, "xanchor": "left", "pad": {"l": 4}},
    "colorway": COLORWAY,
    "paper_bgcolor": CARD, "plot_bgcolor": CARD,
    "xaxis": _AXIS, "yaxis": _AXIS,
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0, "font": {"size": 12}},
    "hoverlabel": {"font": {"family": FONT, "size": 12}},
    "margin": {"l": 56, "r": 16, "t": 48, "b": 56},
    "separators": ".,",  # 1,250.5: the site's number format
})
pio.templates[NAME] = TEMPLATE


def figure(*traces: Any, **layout: Any) -> go.Figure:
    """A figure with the site's template; ``layout`` as plotly's update_layout takes it."""
    fig = go.Figure(data=list(traces))
    fig.update_layout(template=NAME, **layout)
    return fig


def count_step(top: float) -> int:
    """A whole tick step (1, 2, 5, 10, 20, 50, ...) giving at most about six ticks up to ``top``."""
    if not top or top <= 6:
        return 1
    raw = top / 6
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * power >= raw:
            return int(multiple * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def count_axis(top: float, **extra: Any) -> dict[str, Any]:
    """An axis of counts: from zero, whole-number ticks only, thousands separated."""
    return {"rangemode": "tozero", "tick0": 0, "dtick": count_step(top), "tickformat": ",d", **extra}

"""Plotly figures of the monthly report, serialised for static/js/portal.js to draw; all in the
site's template (portal.charts)."""
import plotly.graph_objects as go

from portal import charts
from slas import metrics

LAYOUT = {"height": 360}
MARKERS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon"]


def _label(row):
    return f"{row['code']} {row['type']}" + (f" {row['region']}" if row["region"] else "")


def achieved_bars(results):
    rows = [r for r in results if r["measured"]]
    labels = [_label(r) for r in rows]
    fig = charts.figure()
    colours = charts.COLOURS
    fig.add_bar(x=labels, y=[float(r["achieved_pct"]) for r in rows], name="achieved %",
                marker_color=[colours["green"] if r["met"] else (colours["red"] if r["below_minimum"]
                                                                 else colours["amber"]) for r in rows])
    fig.add_scatter(x=labels, y=[float(r["target_pct"]) for r in rows], mode="markers", name="target %",
                    marker={"symbol": "line-ew-open", "size": 24, "color": colours["brand"]})
    fig.add_scatter(x=labels, y=[float(r["minimum_pct"]) for r in rows], mode="markers", name="minimum %",
                    marker={"symbol": "line-ew-open", "size": 24, "color": colours["red"]})
    fig.update_layout(title="Achieved against target and minimum", yaxis={"range": [80, 100.5], "ticksuffix": " %"},
                      **LAYOUT)
    return fig.to_json()


def trend_lines(series, measures, months):
    """One line per measure over the months (a gap where a month had no traffic, never a line
    drawn through it), on a month axis; hovering a month lists every measure's value."""
    fig = charts.figure()
    x = [m.isoformat() for m in months]
    drawn = 0
    for measure in measures:
        points = series.get(measure.pk)
        if not points:
            continue
        label = f"{measure.code} {measure.get_measurement_type_display()}"
        fig.add_scatter(x=x, y=[points.get(m) for m in months], mode="lines+markers", name=label,
                        connectgaps=False, line={"width": 2},
                        marker={"size": 7, "symbol": MARKERS[drawn % len(MARKERS)]},
                        hovertemplate=f"{label}: %{{y:.2f}} %<extra></extra>")
        drawn += 1
    fig.update_layout(title="Twelve-month trend (achieved %)", hovermode="x unified",
                      xaxis={"type": "date", "dtick": "M1", "tickformat": "%b %Y", "title": {"text": "Month"}},
                      yaxis={"ticksuffix": " %", "title": {"text": "Achieved"}}, height=420)
    return fig.to_json()


def latency(results):
    fig = charts.figure()
    for row in results:
        histogram = row["histogram"]
        if not histogram or row["region"] not in (None, "north"):
            continue
        keys = sorted(histogram, key=int)
        fig.add_scatter(x=[metrics.bucket_seconds(k) for k in keys], y=[histogram[k] for k in keys],
                        mode="lines", name=_label(row))
    top = max((max(row["histogram"].values(), default=0) for row in results if row["histogram"]), default=0)
    fig.update_layout(title="Latency distribution (seconds, log scale)",
                      xaxis={"type": "log", "title": {"text": "Seconds"}},
                      yaxis=charts.count_axis(top, title={"text": "Requests"}), **LAYOUT)
    return fig.to_json()


def heatmap(misses, month):
    days = []
    day = month
    while day < metrics.next_month(month):
        days.append(day)
        day = day.fromordinal(day.toordinal() + 1)
    regions = ["north", "central", "south"]
    z = [[misses.get((d, r), 0) for d in days] for r in regions]
    top = max((max(row) for row in z), default=0)
    fig = charts.figure(go.Heatmap(x=[f"{d:%d}" for d in days], y=regions, z=z, colorscale="Reds", zmin=0,
                                   colorbar={"title": {"text": "Misses"}, "tick0": 0, "dtick": charts.count_step(top),
                                             "tickformat": ",d"},
                                   hovertemplate="%{y}, day %{x}: %{z} misses<extra></extra>"))
    fig.update_layout(title="Misses by region and day", xaxis={"title": {"text": "Day of the month"}}, **LAYOUT)
    return fig.to_json()

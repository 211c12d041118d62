"""Plotly figures of the monthly report, serialised for static/js/portal.js to draw."""
import plotly.graph_objects as go

from slas import metrics

LAYOUT = {"margin": {"l": 50, "r": 20, "t": 40, "b": 80}, "height": 360}


def _label(row):
    return f"{row['code']} {row['type']}" + (f" {row['region']}" if row["region"] else "")


def achieved_bars(results):
    rows = [r for r in results if r["measured"]]
    labels = [_label(r) for r in rows]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[float(r["achieved_pct"]) for r in rows], name="achieved %",
                marker_color=["#2e7d32" if r["met"] else ("#c62828" if r["below_minimum"] else "#f9a825")
                              for r in rows])
    fig.add_scatter(x=labels, y=[float(r["target_pct"]) for r in rows], mode="markers", name="target %",
                    marker={"symbol": "line-ew-open", "size": 24, "color": "#1a237e"})
    fig.add_scatter(x=labels, y=[float(r["minimum_pct"]) for r in rows], mode="markers", name="minimum %",
                    marker={"symbol": "line-ew-open", "size": 24, "color": "#b71c1c"})
    fig.update_layout(title="Achieved against target and minimum", yaxis={"range": [80, 100.5]}, **LAYOUT)
    return fig.to_json()


def trend_lines(series, measures, months):
    fig = go.Figure()
    for measure in measures:
        points = series.get(measure.pk)
        if not points:
            continue
        fig.add_scatter(x=[f"{m:%Y-%m}" for m in months], y=[points.get(m) for m in months], mode="lines+markers",
                        name=f"{measure.code} {measure.measurement_type}")
    fig.update_layout(title="Twelve-month trend (achieved %)", **LAYOUT)
    return fig.to_json()


def latency(results):
    fig = go.Figure()
    for row in results:
        histogram = row["histogram"]
        if not histogram or row["region"] not in (None, "north"):
            continue
        keys = sorted(histogram, key=int)
        fig.add_scatter(x=[metrics.bucket_seconds(k) for k in keys], y=[histogram[k] for k in keys],
                        mode="lines", name=_label(row))
    fig.update_layout(title="Latency distribution (seconds, log scale)", xaxis={"type": "log"}, **LAYOUT)
    return fig.to_json()


def heatmap(misses, month):
    days = []
    day = month
    while day < metrics.next_month(month):
        days.append(day)
        day = day.fromordinal(day.toordinal() + 1)
    regions = ["north", "central", "south"]
    fig = go.Figure(go.Heatmap(x=[f"{d:%d}" for d in days], y=regions,
                               z=[[misses.get((d, r), 0) for d in days] for r in regions], colorscale="Reds"))
    fig.update_layout(title="Misses by region and day", **LAYOUT)
    return fig.to_json()

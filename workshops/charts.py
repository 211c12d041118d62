"""Plotly figures of the governance registers, serialised with fig.to_json() (which escapes '<');
all in the site's template (portal.charts)."""
import plotly.graph_objects as go

from portal import charts

RISK_COLOURS = [[0, "#e8f5e9"], [0.34, "#fff3cd"], [0.67, "#ffd8a8"], [1, "#f8c4c4"]]


def risk_heatmap(cells):
    """Likelihood × impact grid of open risks: colour by score, count and references in each cell."""
    z, text = [], []
    for likelihood in range(1, 6):
        z_row, text_row = [], []
        for impact in range(1, 6):
            items = cells.get((likelihood, impact), [])
            z_row.append(likelihood * impact)
            text_row.append(f"{len(items)}<br>" + " ".join(i.reference for i in items) if items else "")
        z.append(z_row)
        text.append(text_row)
    figure = charts.figure(go.Heatmap(
        z=z, x=[1, 2, 3, 4, 5], y=[1, 2, 3, 4, 5], text=text, texttemplate="%{text}", colorscale=RISK_COLOURS,
        zmin=1, zmax=25, showscale=False, hovertemplate="likelihood %{y}, impact %{x}: %{text}<extra></extra>",
    ))
    figure.update_layout(title="Open risks: likelihood × impact", xaxis_title="Impact", yaxis_title="Likelihood",
                         xaxis={"dtick": 1}, yaxis={"dtick": 1},
                         height=460, margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return figure.to_json()


def roadmap(versions, milestones, *, today):
    """Planned versus actual issue dates per document version on a time axis the reader can zoom
    (drag a range, the range slider below, or the 3 months / 1 year / all buttons); slipped versions
    in red, a line from planned to actual (or to today while it is late)."""
    colours = charts.COLOURS
    planned = {"x": [], "y": [], "text": []}
    actual = {"x": [], "y": [], "text": [], "color": []}
    links_x, links_y = [], []
    for version in versions:
        label = version.document.name
        if version.planned_issue:
            planned["x"].append(version.planned_issue.isoformat())
            planned["y"].append(label)
            planned["text"].append(f"v{version.version} planned {version.planned_issue:%d %b %Y}")
        issued = version.actual_issue
        if issued:
            actual["x"].append(issued.isoformat())
            actual["y"].append(label)
            actual["text"].append(f"v{version.version} issued {issued:%d %b %Y}"
                                  + (" (slipped)" if version.slipped else ""))
            actual["color"].append(colours["red"] if version.slipped else colours["green"])
        if version.planned_issue and (issued or version.slipped):
            links_x += [version.planned_issue.isoformat(), (issued or today).isoformat(), None]
            links_y += [label, label, None]
    figure = charts.figure()
    figure.add_trace(go.Scatter(x=links_x, y=links_y, mode="lines", line={"color": colours["red"], "width": 1.5},
                                name="slip", hoverinfo="skip"))
    figure.add_trace(go.Scatter(x=planned["x"], y=planned["y"], text=planned["text"], mode="markers", name="planned",
                                marker={"symbol": "circle-open", "size": 11, "line": {"width": 2},
                                        "color": colours["brand"]},
                                hovertemplate="%{y}: %{text}<extra></extra>"))
    figure.add_trace(go.Scatter(x=actual["x"], y=actual["y"], text=actual["text"], mode="markers", name="actual",
                                marker={"symbol": "circle", "size": 10, "color": actual["color"]},
                                hovertemplate="%{y}: %{text}<extra></extra>"))
    for milestone in milestones:
        when = milestone.achieved or milestone.planned
        if when:
            figure.add_vline(x=when.isoformat(), line={"dash": "dot", "color": colours["grey"]})
            figure.add_annotation(x=when.isoformat(), y=1.02, yref="paper", text=milestone.name, showarrow=False)
    figure.add_vline(x=today.isoformat(), line={"color": colours["grey"], "width": 1})
    figure.add_annotation(x=today.isoformat(), y=0, yref="paper", yanchor="top", text="today", showarrow=False,
                          font={"size": 11, "color": colours["grey"]})
    rows = len({v.document_id for v in versions}) or 1
    figure.update_layout(
        title={"text": "Document roadmap: planned (open) and actual (filled; red = slipped)", "y": 0.98,
               "yanchor": "top"},
        height=max(400, 170 + 28 * rows), margin={"l": 20, "r": 20, "t": 110, "b": 30},
        # Zoom on time only: the documents stay listed whatever the range.
        dragmode="zoom", yaxis={"autorange": "reversed", "fixedrange": True, "automargin": True},
        xaxis={"type": "date", "automargin": True,
               "rangeslider": {"visible": True, "thickness": 0.08},
               "rangeselector": {"x": 0, "y": 1.1, "yanchor": "bottom", "buttons": [
                   {"count": 3, "label": "3 months", "step": "month", "stepmode": "backward"},
                   {"count": 1, "label": "1 year", "step": "year", "stepmode": "backward"},
                   {"step": "all", "label": "all"}]}},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.1, "yanchor": "bottom"},
    )
    return figure.to_json()


def theme_bars(summary):
    figure = charts.figure(go.Bar(x=[n for _, n in summary], y=[t for t, _ in summary], orientation="h",
                                  text=[n for _, n in summary], textposition="auto",
                                  hovertemplate="%{y}: %{x} comments<extra></extra>"))
    top = max((n for _, n in summary), default=0)
    figure.update_layout(title="Comments by theme", height=max(240, 60 + 34 * len(summary)),
                         margin={"l": 20, "r": 20, "t": 50, "b": 30},
                         xaxis=charts.count_axis(top, title={"text": "Comments"}),
                         yaxis={"autorange": "reversed", "automargin": True})
    return figure.to_json()

"""Plotly figures of the governance registers, serialised with fig.to_json() (which escapes '<')."""
import plotly.graph_objects as go

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
    figure = go.Figure(go.Heatmap(
        z=z, x=[1, 2, 3, 4, 5], y=[1, 2, 3, 4, 5], text=text, texttemplate="%{text}", colorscale=RISK_COLOURS,
        zmin=1, zmax=25, showscale=False, hovertemplate="likelihood %{y}, impact %{x}: %{text}<extra></extra>",
    ))
    figure.update_layout(title="Open risks: likelihood × impact", xaxis_title="Impact", yaxis_title="Likelihood",
                         height=460, margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return figure.to_json()


def roadmap(versions, milestones, *, today):
    """Planned versus actual issue dates per document version; slipped versions in red."""
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
            actual["color"].append("#c0392b" if version.slipped else "#1e7b34")
        if version.planned_issue and (issued or version.slipped):
            links_x += [version.planned_issue.isoformat(), (issued or today).isoformat(), None]
            links_y += [label, label, None]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=links_x, y=links_y, mode="lines", line={"color": "#c0392b", "width": 1},
                                name="slip", hoverinfo="skip"))
    figure.add_trace(go.Scatter(x=planned["x"], y=planned["y"], text=planned["text"], mode="markers", name="planned",
                                marker={"symbol": "circle-open", "size": 11, "color": "#1f4e79"},
                                hovertemplate="%{y}: %{text}<extra></extra>"))
    figure.add_trace(go.Scatter(x=actual["x"], y=actual["y"], text=actual["text"], mode="markers", name="actual",
                                marker={"symbol": "circle", "size": 10, "color": actual["color"]},
                                hovertemplate="%{y}: %{text}<extra></extra>"))
    for milestone in milestones:
        when = milestone.achieved or milestone.planned
        if when:
            figure.add_vline(x=when.isoformat(), line={"dash": "dot", "color": "#6c757d"})
            figure.add_annotation(x=when.isoformat(), y=1.02, yref="paper", text=milestone.name, showarrow=False)
    figure.add_vline(x=today.isoformat(), line={"color": "#999", "width": 1})
    rows = len({v.document_id for v in versions}) or 1
    figure.update_layout(title="Document roadmap: planned (open) and actual (filled; red = slipped)",
                         height=max(320, 60 + 28 * rows), margin={"l": 260, "r": 20, "t": 60, "b": 40},
                         yaxis={"autorange": "reversed"}, xaxis={"type": "date"})
    return figure.to_json()


def theme_bars(summary):
    figure = go.Figure(go.Bar(x=[n for _, n in summary], y=[t for t, _ in summary], orientation="h",
                              text=[n for _, n in summary], textposition="auto"))
    figure.update_layout(title="Comments by theme", height=max(240, 60 + 34 * len(summary)),
                         margin={"l": 240, "r": 20, "t": 50, "b": 30}, yaxis={"autorange": "reversed"})
    return figure.to_json()

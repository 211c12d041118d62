"""The governance charts: the site's template; the roadmap planned against actual on a zoomable
time axis (issue 17)."""
import datetime as dt
import json
from types import SimpleNamespace

from portal import charts as site
from workshops import charts


def version(document_id, name, number, planned, actual=None, slipped=False):
    return SimpleNamespace(document_id=document_id, document=SimpleNamespace(name=name), version=number,
                           planned_issue=planned, actual_issue=actual, slipped=slipped)


def test_the_roadmap_plots_planned_against_actual_on_a_zoomable_time_axis():
    versions = [version(1, "SEC Appendix AB", "1.0", dt.date(2026, 3, 1), dt.date(2026, 3, 20), slipped=True),
                version(2, "DUIS schema", "4.2", dt.date(2026, 6, 1)),
                version(2, "DUIS schema", "4.1", dt.date(2026, 1, 10), dt.date(2026, 1, 9))]
    milestones = [SimpleNamespace(name="Go-live", planned=dt.date(2026, 9, 1), achieved=None)]
    figure = json.loads(charts.roadmap(versions, milestones, today=dt.date(2026, 5, 1)))
    layout = figure["layout"]
    assert layout["template"]["layout"]["font"]["family"] == site.FONT
    assert layout["xaxis"]["type"] == "date" and layout["xaxis"]["rangeslider"]["visible"] is True
    assert [b["label"] for b in layout["xaxis"]["rangeselector"]["buttons"]] == ["3 months", "1 year", "all"]
    assert layout["dragmode"] == "zoom" and layout["yaxis"]["fixedrange"] is True
    traces = {trace["name"]: trace for trace in figure["data"]}
    assert all(trace["type"] == "scatter" for trace in traces.values())
    assert traces["planned"]["x"] == ["2026-03-01", "2026-06-01", "2026-01-10"]
    assert traces["actual"]["x"] == ["2026-03-20", "2026-01-09"]
    assert traces["actual"]["marker"]["color"] == [site.COLOURS["red"], site.COLOURS["green"]]
    assert traces["slip"]["x"][:2] == ["2026-03-01", "2026-03-20"]


def test_the_theme_bars_count_comments_in_whole_numbers():
    figure = json.loads(charts.theme_bars([("Security", 9), ("Testing", 2)]))
    [bars] = figure["data"]
    assert bars["type"] == "bar" and bars["orientation"] == "h"
    assert figure["layout"]["xaxis"]["tickformat"] == ",d" and figure["layout"]["xaxis"]["dtick"] == 2
    assert figure["layout"]["template"]["layout"]["colorway"] == site.COLORWAY


def test_the_risk_heatmap_uses_the_site_template():
    figure = json.loads(charts.risk_heatmap({}))
    assert figure["data"][0]["type"] == "heatmap"
    assert figure["layout"]["template"]["layout"]["font"]["family"] == site.FONT
    assert figure["layout"]["xaxis"]["dtick"] == 1

"""The monthly report's charts: the site's template, a line per measure on a month axis, whole
counts on count axes (issue 17)."""
import datetime as dt
import json
from types import SimpleNamespace

from portal import charts as site
from slas import charts


def measure(pk, code, kind):
    return SimpleNamespace(pk=pk, code=code, get_measurement_type_display=lambda: kind)


def test_the_trend_is_one_line_per_measure_with_traffic_on_a_month_axis():
    months = [dt.date(2026, m, 1) for m in range(1, 13)]
    series = {1: {months[0]: 99.5, months[1]: 98.0, months[3]: 97.25}, 2: {months[11]: 100.0}}
    measures = [measure(1, "SDAG_3.01", "On-demand"), measure(2, "SDAG_3.02", "Future-dated"),
                measure(3, "SDAG_3.03", "Scheduled")]
    figure = json.loads(charts.trend_lines(series, measures, months))
    assert figure["layout"]["template"]["layout"]["font"]["family"] == site.FONT
    lines = figure["data"]
    assert [line["name"] for line in lines] == ["SDAG_3.01 On-demand", "SDAG_3.02 Future-dated"]
    assert all(line["type"] == "scatter" and line["mode"] == "lines+markers" for line in lines)
    assert lines[0]["connectgaps"] is False and lines[0]["y"][2] is None  # no traffic in March: a gap
    assert lines[0]["x"][0] == "2026-01-01" and len(lines[0]["x"]) == 12
    assert lines[0]["marker"]["symbol"] != lines[1]["marker"]["symbol"]
    assert figure["layout"]["xaxis"]["type"] == "date" and figure["layout"]["xaxis"]["dtick"] == "M1"
    assert figure["layout"]["hovermode"] == "x unified"


def test_the_misses_heatmap_counts_in_whole_numbers():
    month = dt.date(2026, 2, 1)
    figure = json.loads(charts.heatmap({(dt.date(2026, 2, 3), "north"): 17}, month))
    [heat] = figure["data"]
    assert heat["type"] == "heatmap" and len(heat["x"]) == 28
    assert heat["colorbar"]["tickformat"] == ",d" and heat["colorbar"]["dtick"] == 5
    assert figure["layout"]["template"]["layout"]["colorway"] == site.COLORWAY


def test_the_latency_chart_counts_requests_on_a_whole_number_axis():
    rows = [{"code": "SDAG_3.01", "type": "on_demand", "region": None, "histogram": {"0": 3, "5": 40}}]
    figure = json.loads(charts.latency(rows))
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert figure["layout"]["yaxis"]["tickformat"] == ",d" and figure["layout"]["yaxis"]["dtick"] == 10
    assert figure["layout"]["template"]["layout"]["font"]["family"] == site.FONT

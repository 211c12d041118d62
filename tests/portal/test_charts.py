"""The site's plotly template (portal.charts) matches the stylesheet and counts have whole ticks."""
import json
import re

import plotly.io as pio
import pytest
from django.contrib.staticfiles import finders

from portal import charts


def test_the_template_is_registered_once_under_its_name():
    assert pio.templates[charts.NAME] is charts.TEMPLATE or pio.templates[charts.NAME] == charts.TEMPLATE
    fig = charts.figure()
    layout = json.loads(fig.to_json())["layout"]
    assert layout["template"]["layout"]["font"]["family"] == charts.FONT
    assert layout["template"]["layout"]["colorway"][0] == charts.COLOURS["brand"]


def test_the_template_uses_the_stylesheets_font_and_colours():
    css = open(finders.find("css/portal.css"), encoding="utf-8").read()
    root = css[css.index(":root"):css.index("}", css.index(":root"))]
    variables = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{3,6})", root))
    for name in ("green", "amber", "red", "purple", "grey"):
        assert charts.COLOURS[name] == variables[name]
    assert charts.COLOURS["brand"] == variables["brand"] and charts.INK == variables["ink"]
    assert f"font-family: {charts.FONT};" in root


@pytest.mark.parametrize(("top", "step"), [(0, 1), (1, 1), (6, 1), (7, 2), (12, 2), (13, 5), (40, 10),
                                           (300, 50), (10_000, 2000)])
def test_count_ticks_are_whole_numbers(top, step):
    assert charts.count_step(top) == step
    axis = charts.count_axis(top)
    assert axis["dtick"] == step and axis["tickformat"] == ",d" and axis["rangemode"] == "tozero"

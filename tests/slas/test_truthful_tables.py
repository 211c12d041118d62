"""Measure tables that read at a glance (issue 17): state by word and colour, measures with
traffic first and the rest folded behind "show N not measured", human labels, money as
£1,250,000.00, dates one way with their zone, and a statement that explains how its traffic
relates to the service user's report, from the figures."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse

from slas import metrics, services
from slas.choices import MeasureState
from slas.models import Statement

pytestmark = pytest.mark.django_db


def render(text, **context):
    return Template(text).render(Context(context))


def test_money_and_dates_are_written_one_way():
    assert render("{{ a|money }}", a=Decimal("1250000")) == "£1,250,000.00"
    assert render("{{ a|money }}", a="666.665") == "£666.67"  # half up, to the penny
    assert render("{{ a|money }}", a=Decimal("-12.5")) == "−£12.50"
    assert render("{{ a|money }}", a=None) == ""
    winter = dt.datetime(2026, 12, 7, 16, 19, 5, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 6, 7, 16, 19, 5, tzinfo=dt.UTC)
    assert render("{{ t|when }}", t=winter) == "7 Dec 2026 16:19 GMT"
    assert render("{{ t|when }}", t=summer) == "7 Jun 2026 17:19 BST"  # London time, with its zone
    assert render('{{ t|when:"seconds" }}', t=summer) == "7 Jun 2026 17:19:05 BST"
    assert render("{{ d|day }} · {{ d }}", d=dt.date(2026, 3, 1)) == "1 Mar 2026 · 1 Mar 2026"
    assert render("{{ t }}", t=winter) == "7 Dec 2026 16:19 GMT"  # a bare moment takes the same format


def test_one_rule_decides_a_measures_state():
    assert metrics.measure_state(None, 99, 96) == MeasureState.NOT_MEASURED
    assert metrics.measure_state(Decimal("99.00"), 99, 96) == MeasureState.MET
    assert metrics.measure_state(Decimal("98.99"), 99, 96) == MeasureState.BETWEEN
    assert metrics.measure_state(Decimal("96"), 99, 96) == MeasureState.BELOW  # at the minimum: a full point
    assert str(MeasureState.BETWEEN.label) == "Between target and minimum"


def _body(response):
    assert response.status_code == 200
    return response.content.decode()


def test_report_shows_state_in_words_traffic_first_and_folds_the_rest(month_with_misses, dcc_operator, client_for):
    html = _body(client_for(dcc_operator).get(reverse("slas:report") + "?month=2025-10"))
    measures = html.split("<h2>Measures</h2>")[1].split("<h2>Incidents</h2>")[0]
    shown, _, folded = measures.partition('<details class="not-measured">')
    # SM1.1 (DSP outbound, 97 of 100 within 4 s) is between its target and minimum: word and colour.
    row = next(r for r in shown.split("<tr") if "<td>SM1.1</td>" in r)
    assert '<span class="badge badge-amber">Between target and minimum</span>' in row
    assert "<td>On-demand</td>" in row and "on_demand" not in shown
    # The measures without traffic are behind one fold that counts them, after every measured row.
    not_measured = re.search(r"<summary>Show (\d+) not measured</summary>", folded)
    assert not_measured and int(not_measured.group(1)) == folded.count("badge-grey\">Not measured")
    assert "Not measured" not in shown
    assert int(not_measured.group(1)) > 0
    assert "£666.67" in html  # the pool, as money
    assert "Show" in html.split("<h2>Incidents</h2>")[1].split("<h2>Availability</h2>")[0]  # incidents fold too


def test_statement_explains_its_traffic_against_the_report(month_with_misses, orgs, supplier_a, client_for):
    services.month_freeze(month=month_with_misses, notify=False)
    statement = Statement.objects.get(organisation=orgs["SUPA"], month=month_with_misses)
    html = _body(client_for(supplier_a).get(statement.get_absolute_url()))
    note = html.split('id="traffic-note">')[1].split("</p>")[0]
    national = sum(int(r["measured"]) for r in statement.data["measures"])
    report = _body(client_for(supplier_a).get(reverse("slas:report") + "?month=2025-10"))
    own = sum(int(n) for n in re.findall(r'<td>SM1\.1</td><td>On-demand</td><td>DSP</td><td>national</td>\s*'
                                         r'<td class="num">(\d+)</td>', report))
    # Half of the month's requests were Albion's: the note's figures are the statement's and the report's.
    assert own == 50 and f"{national:,} measured intervals" in note
    assert f"{national // 2:,} of them (50.0%)" in note
    assert "SM1.1 On-demand 50 of 100" in note
    assert "£2,000.00 of £3,000.00" in note  # its share follows its charges, not its traffic
    assert '<span class="badge badge-amber">Between target and minimum</span>' in html
    assert "£444.45" in html and "Show " in html


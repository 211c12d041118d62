"""Credit arithmetic, statements, restatement, the scheduled freeze and the pages around them."""
import datetime as dt
import io
from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from slas import credits, facts, services, tasks
from slas.models import Charge, CreditRun, Statement
from tests.slas.factories import request_row, requests_csv

UTC = dt.UTC


def _calc(achieved_within, measured=100, weight="1", cap="10.00", ppp="1.00", charge="1000.00", extra=()):
    results = [{"code": "SM1.1", "type": "on_demand", "measured": measured, "within": achieved_within,
                "target_pct": Decimal("99.00"), "minimum_pct": Decimal("96.00"), "weight": Decimal(weight)}, *extra]
    return credits.provider_credit(provider="DSP", results=results, percent_per_point=Decimal(ppp),
                                   cap_pct=Decimal(cap), charge=Decimal(charge))


def test_credit_branches_met_between_below_minimum_and_cap():
    met = _calc(99)
    assert (met["points"], met["credit"], met["lines"][0]["branch"]) == ("0.0000", "0.00", "met")
    between = _calc(975, measured=1000)  # A = 97.5: (99 - 97.5) / 3 = 0.5 points -> 0.5% of £1000
    assert between["lines"][0]["branch"] == "between minimum and target"
    assert (between["points"], between["credit_pct"], between["credit"]) == ("0.5000", "0.5000", "5.00")
    below = _calc(96)  # A equal to the minimum counts as at-or-below: 1 point
    assert (below["lines"][0]["branch"], below["points"], below["credit"]) == ("at or below minimum", "1.0000",
                                                                               "10.00")
    capped = _calc(50, weight="4", ppp="3.00")  # 4 points x 3% = 12% -> capped at 10%
    assert capped["capped"] and capped["credit_pct"] == "10.0000" and capped["credit"] == "100.00"
    nothing = _calc(0, measured=0)
    assert nothing["lines"] == [] and nothing["credit"] == "0.00"


def test_credit_rounds_half_up_to_the_penny():
    # 1/3 point x 1% of £1.50 = 0.5p exactly -> rounds up to 1p.
    assert credits.round_pence(Fraction(1, 2)) == 1
    assert credits.round_pence(Fraction(149, 100)) == 1
    calc = _calc(98, charge="1.50")  # A = 98: (99 - 98) / 3 = 1/3 point -> 1/3 % of 150p = 0.5p
    assert calc["credit"] == "0.01"


def test_largest_remainder_adds_up_exactly_and_breaks_ties_by_code():
    shares = credits.allocate(100, {"SUPB": 1, "SUPA": 1, "SUPC": 1})
    assert sum(shares.values()) == 100
    assert shares == {"SUPA": 34, "SUPB": 33, "SUPC": 33}
    shares = credits.allocate(1001, {"X": 333, "Y": 333, "Z": 334})
    assert sum(shares.values()) == 1001 and shares["Z"] == 335
    assert credits.allocate(500, {"A": 0, "B": 0}) == {"A": 0, "B": 0}
    assert credits.allocate(12345, {"A": 700, "B": 0, "C": 300}) == {"A": 8642, "B": 0, "C": 3703}


def test_charges_import_refuses_a_file_with_a_bad_row(orgs, dcc_admin, tmp_path):
    path = tmp_path / "charges.csv"
    path.write_text("month,party,amount\n2025-10,DSP,10.00\n2025-13,SUPA,5\n2025-10,NOPE,1\n")
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("slas_import_charges", str(path), "--commit", stdout=out)
    assert "month:" in out.getvalue() and "party: 'NOPE'" in out.getvalue()
    assert Charge.objects.count() == 0


def test_freeze_issues_statements_that_share_the_pool_and_mail_the_pdf(month_with_misses, orgs, supplier_a,
                                                                       supplier_b):
    run, issued = services.month_freeze(month=month_with_misses)
    dsp = next(c for c in run.data["credits"] if c["provider"] == "DSP")
    # A = 97: shortfall (99 - 97) / 3 = 2/3 point -> 0.6667% of £100,000 = £666.67 (half up).
    assert dsp["credit"] == "666.67"
    assert run.pool == Decimal("666.67")
    amounts = {s.organisation.code: s.amount for s in issued}
    assert amounts == {"SUPA": Decimal("444.45"), "SUPB": Decimal("222.22")}
    assert sum(amounts.values()) == run.pool
    assert {m.to[0] for m in mail.outbox} == {supplier_a.email, supplier_b.email}
    assert all(m.attachments[0][0].endswith(".pdf") and m.attachments[0][1].startswith(b"%PDF")
               for m in mail.outbox)


def test_restatement_is_a_new_version_and_the_old_one_stays_readable(month_with_misses, orgs, dcc_admin,
                                                                     supplier_a, client_for):
    run, issued = services.month_freeze(month=month_with_misses)
    first = Statement.objects.get(organisation=orgs["SUPA"], month=month_with_misses)
    facts.load_text(requests=requests_csv([request_row("late", "SUPA", dt.datetime(2025, 10, 20, tzinfo=UTC),
                                                       outbound=30)]))
    assert services.month_freeze(month=month_with_misses)[1] == []  # re-run restates nothing
    with pytest.raises(ValidationError):
        services.month_restate(month=month_with_misses, reason=" ", actor=dcc_admin)
    run2, issued2 = services.month_restate(month=month_with_misses, reason="late responses", actor=dcc_admin)
    assert run2.version == 2
    second = Statement.objects.get(organisation=orgs["SUPA"], month=month_with_misses, version=2)
    assert second.amount > first.amount and second.reason == "late responses"
    first.refresh_from_db()
    assert first.amount == Decimal("444.45") and first.version == 1
    client = client_for(supplier_a)
    old = client.get(reverse("slas:statement_detail", args=[first.pk]))
    assert old.status_code == 200 and "444.45" in old.content.decode() and "Superseded" in old.content.decode()
    new = client.get(reverse("slas:statement_detail", args=[second.pk]))
    assert "late responses" in new.content.decode() and "Current" in new.content.decode()
    pdf = client.get(reverse("slas:statement_download", args=[first.pk, "pdf"]))
    assert pdf.content.startswith(b"%PDF")
    csv_text = client.get(reverse("slas:statement_download", args=[first.pk, "csv"])).getvalue().decode("utf-8-sig")
    assert "444.45" in csv_text


def test_scheduled_freeze_acts_on_the_first_working_day_only_and_once(month_with_misses, orgs, supplier_a):
    # 1 November 2025 is a Saturday: the first working day is Monday 3 November.
    with time_machine.travel(dt.datetime(2025, 11, 1, 6, 0, tzinfo=dt.UTC), tick=False):
        assert tasks.monthly_freeze() is None
    assert not CreditRun.objects.exists()
    with time_machine.travel(dt.datetime(2025, 11, 3, 6, 0, tzinfo=dt.UTC), tick=False):
        assert tasks.monthly_freeze() == 2  # one per active service user (SUPA, SUPB)
        sent = len(mail.outbox)
        assert tasks.monthly_freeze() == 0
    assert CreditRun.objects.count() == 1 and Statement.objects.count() == 2
    assert len(mail.outbox) == sent


def test_bank_holidays_move_the_first_working_day():
    from portal.calendar_uk import first_working_day

    assert first_working_day(2027, 1) == dt.date(2027, 1, 4)  # New Year's Day Friday, then the weekend
    assert first_working_day(2021, 1) == dt.date(2021, 1, 4)
    assert first_working_day(2023, 5) == dt.date(2023, 5, 2)  # early May bank holiday on Monday 1st
    assert first_working_day(2024, 4) == dt.date(2024, 4, 2)  # Easter Monday 1 April


def test_relief_window_excludes_requests_that_started_inside(month_with_misses, orgs, dcc_admin):
    from slas import report

    before = report.build(month_with_misses)
    sm11 = next(r for r in before["measures"] if r["code"] == "SM1.1" and r["type"] == "on_demand")
    assert (sm11["measured"], sm11["within"]) == (100, 97)
    # The three slow requests started at 09:00-09:02 UTC on 15 October.
    services.relief_record(provider="DSP", starts_at=dt.datetime(2025, 10, 15, 9, 0, tzinfo=UTC),
                           ends_at=dt.datetime(2025, 10, 15, 9, 3, tzinfo=UTC), reason="approved DSP outage",
                           actor=dcc_admin)
    after = report.build(month_with_misses)
    sm11 = next(r for r in after["measures"] if r["code"] == "SM1.1" and r["type"] == "on_demand")
    assert (sm11["measured"], sm11["within"], sm11["excluded"]) == (97, 97, 3)
    assert sm11["met"] is True
    csp = next(r for r in after["measures"] if r["code"] == "SM4.1" and r["region"] == "north")
    assert csp["excluded"] == 0  # a DSP window leaves CSP measures alone
    assert [r.reason for r in after["relief_events"]] == ["approved DSP outage"]
    assert next(c for c in after["credits"] if c["provider"] == "DSP")["credit"] == "0.00"


def test_pages_dcc_and_self_service(month_with_misses, orgs, dcc_operator, supplier_a, supplier_b, client_for):
    services.month_freeze(month=month_with_misses, notify=False)
    ops = client_for(dcc_operator)
    page = ops.get(reverse("slas:report") + "?month=2025-10")
    body = page.content.decode()
    assert page.status_code == 200 and 'data-figure="fig-bars"' in body and "SM1.1" in body
    assert "<script>" not in body
    assert ops.get(reverse("slas:measure_list")).status_code == 200
    csv_text = ops.get(reverse("slas:report_export", args=["csv"]) + "?month=2025-10").getvalue().decode("utf-8-sig")
    assert "SM1.1,on_demand,DSP,,100,97" in csv_text
    assert ops.get(reverse("slas:report_export", args=["pdf"]) + "?month=2025-10").content.startswith(b"%PDF")
    a_csv = client_for(supplier_a).get(reverse("slas:report_export", args=["csv"]) + "?month=2025-10")
    assert "SM1.1,on_demand,DSP,,50,49" in a_csv.getvalue().decode("utf-8-sig")  # own half of the traffic
    listing = client_for(supplier_a).get(reverse("slas:statement_list")).content.decode()
    assert "SUPA" in listing and "SUPB" not in listing
    b_statement = Statement.objects.get(organisation=orgs["SUPB"])
    assert client_for(supplier_a).get(reverse("slas:statement_detail", args=[b_statement.pk])).status_code == 404
    assert client_for(supplier_a).get(
        reverse("slas:statement_download", args=[b_statement.pk, "pdf"])).status_code == 404
    charges = client_for(supplier_a).get(reverse("slas:charge_list")).content.decode()
    assert "£2,000.00" in charges and "£1,000.00" not in charges  # money as £1,250,000.00 (issue 17)

"""Hostile text in documents rendered to PDF: the HTML that WeasyPrint renders is escaped, so markup
typed into a register shows as text in the printed agenda and minutes, never as markup."""
import datetime as dt

import pytest

from workshops import printing, services

HOSTILE = '<script>alert(1)</script><b onmouseover="x()">bold</b>'


@pytest.mark.django_db
def test_agenda_and_minutes_pdf_escape_markup(orgs, dcc_operator):
    series = services.series_save(code="sdag", name="SDAG", action_prefix="SDAG", actor=dcc_operator)
    meeting = services.meeting_save(series=series, number=6, title=f"SDAG {HOSTILE}", date=dt.date(2013, 4, 23),
                                    start=dt.time(10), end=dt.time(15), venue=HOSTILE[:200],
                                    actor=dcc_operator)
    services.action_raise(meeting=meeting, title=HOSTILE, text=HOSTILE * 50, owners=[dcc_operator], actor=dcc_operator)
    for minutes in (False, True):
        html = printing.meeting_html(meeting, minutes=minutes)
        assert "<script>alert(1)" not in html and "<b onmouseover" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        pdf = printing.meeting_pdf(meeting, minutes=minutes)
        assert pdf.startswith(b"%PDF") and len(pdf) > 1000

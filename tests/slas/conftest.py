import datetime as dt

import pytest

from slas import facts, services
from tests.slas.factories import request_row, requests_csv

UTC = dt.UTC


@pytest.fixture
def measures(db):
    services.ensure_measures()


@pytest.fixture
def month_with_misses(orgs, measures, dcc_admin):
    start = dt.datetime(2025, 10, 15, 9, 0, tzinfo=UTC)
    # DSP outbound: 97 of 100 within 4 s -> between minimum and target.
    rows = [request_row(f"r{n}", "SUPA" if n % 2 else "SUPB", start + dt.timedelta(minutes=n),
                        outbound=9 if n < 3 else 1) for n in range(100)]
    facts.load_text(requests=requests_csv(rows))
    data = "month,party,amount\n2025-10,DSP,100000.00\n2025-10,CSP_NORTH,50000\n2025-10,SUPA,2000.00\n" \
           "2025-10,SUPB,1000.00\n"
    preview = services.charges_import(data.encode(), filename="charges.csv", commit=True, actor=dcc_admin)
    assert preview.committed, preview.results
    return dt.date(2025, 10, 1)

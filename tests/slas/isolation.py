"""Objects of every slas kind owned by one organisation, each with a marker its pages would show."""
import datetime as dt
from decimal import Decimal

from slas import services
from slas.models import Charge, CreditRun, MonthRollup, Statement


def owned_objects(organisation, person):
    services.ensure_measures()
    month = dt.date(2020, 1, 1)
    # Marker amounts that appear nowhere else: the charge, the statement's share and charges.
    charge = Charge.objects.create(month=month, organisation=organisation, amount=Decimal("987654.31"))
    run = CreditRun.objects.create(month=month, version=1, data={}, pool=Decimal("0"))
    statement = Statement.objects.create(
        organisation=organisation, month=month, version=1, run=run, charges=Decimal("987654.31"),
        amount=Decimal("4242.17"), issued_at=dt.datetime(2020, 2, 3, 6, tzinfo=dt.UTC),
        reason=f"restated-for-{organisation.code}-marker",
        data={"measures": [], "credits": [], "pool": "0", "formula": "", "total_charges": "0"})
    from slas.models import Measure

    rollup = MonthRollup.objects.create(month=month, measure=Measure.objects.first(), provider="DSP", region="north",
                                        organisation=organisation, measured=777123, within=777001, histogram={})
    return [(charge, "987654.31"), (statement, "4242.17"), (rollup, "777123")]

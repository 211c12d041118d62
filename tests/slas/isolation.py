"""Objects of every slas kind owned by one organisation, each with a marker its pages would show.

Measures, provider terms and relief events are configuration every signed-in user may read, so
they carry no marker; a provider's charge is DCC's alone (no owner), so suppliers must not see it
either. Safe to call for several organisations (shared rows are fetched, not duplicated)."""
import datetime as dt
from decimal import Decimal

from slas import services
from slas.models import Charge, CreditRun, DailyRollup, Measure, MonthRollup, Statement


def owned_objects(organisation, person):
    services.ensure_measures()
    month = dt.date(2020, 1, 1)
    measure = Measure.objects.order_by("pk").first()
    # Marker amounts that appear nowhere else: the charge, the statement's share and charges.
    charge = Charge.objects.create(month=month, organisation=organisation, amount=Decimal("987654.31"))
    provider_charge, _ = Charge.objects.get_or_create(month=month, provider="CSP_SOUTH",
                                                      defaults={"amount": Decimal("555444.33")})
    run, _ = CreditRun.objects.get_or_create(month=month, version=1, defaults={"data": {}, "pool": Decimal("0")})
    statement = Statement.objects.create(
        organisation=organisation, month=month, version=1, run=run, charges=Decimal("987654.31"),
        amount=Decimal("4242.17"), issued_at=dt.datetime(2020, 2, 3, 6, tzinfo=dt.UTC),
        reason=f"restated-for-{organisation.code}-marker",
        data={"measures": [], "credits": [], "pool": "0", "formula": "", "total_charges": "0"})
    rollup = MonthRollup.objects.create(month=month, measure=measure, provider="DSP", region="north",
                                        organisation=organisation, measured=777123, within=777001, histogram={})
    daily = DailyRollup.objects.create(day=month, measure=measure, provider="DSP", region="north",
                                       organisation=organisation, measured=666123, within=666001)
    return [(charge, "987654.31"), (provider_charge, "555444.33"), (statement, "4242.17"),
            (statement, f"restated-for-{organisation.code}-marker"), (rollup, "777123"), (daily, "666123")]

"""Demo data of the slas app: facts from the adapter's demo traffic (folded), a generated month
when there is none, charges for the last two months, and the previous month frozen so that
statements exist. Idempotent."""
import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from portal.models import Organisation
from slas import facts, incidents, metrics, services
from slas.models import Charge, RequestFact

PROVIDER_CHARGES = {"DSP": Decimal("1250000.00"), "CSP_NORTH": Decimal("640000.00"),
                    "CSP_CENTRAL": Decimal("910000.00"), "CSP_SOUTH": Decimal("880000.00")}


def _generated(month, codes, count=3000, seed=11):
    """A month of plausible traffic with a few misses, for when the adapter has no demo traffic."""
    rng = random.Random(seed)
    start, end = metrics.month_bounds(month)
    span = (end - start).total_seconds()
    requests, alerts = [], []
    for n in range(count):
        t0 = start + dt.timedelta(seconds=rng.uniform(0, span))
        t1 = t0 + dt.timedelta(seconds=rng.lognormvariate(0, 0.5))
        t2 = t1 + dt.timedelta(seconds=rng.lognormvariate(1.5, 0.5))
        t3 = t2 + dt.timedelta(seconds=rng.uniform(1, 10))
        t4 = t3 + dt.timedelta(seconds=rng.lognormvariate(1.5, 0.5))
        t5 = t4 + dt.timedelta(seconds=rng.lognormvariate(-1.5, 0.6))
        requests.append(",".join([f"demo-{month:%Y%m}-{n}", "4.1.1", "on_demand", rng.choice(codes), "",
                                  rng.choice(["north", "central", "south"]), t0.isoformat(),
                                  *(t.isoformat() for t in (t0, t1, t2, t3, t4, t5)), "I0"]))
    for n in range(count // 5):
        a1 = start + dt.timedelta(seconds=rng.uniform(0, span))
        a2 = a1 + dt.timedelta(seconds=rng.lognormvariate(2.5, 0.6))
        a3 = a2 + dt.timedelta(seconds=rng.lognormvariate(0, 0.7))
        alerts.append(",".join([f"demo-alert-{month:%Y%m}-{n}", "0x8F3A", rng.choice(codes), "",
                                rng.choice(["north", "central", "south"]), a1.isoformat(), a2.isoformat(),
                                a3.isoformat()]))
    facts.load_text(requests="\n".join([",".join(facts.REQUEST_FIELDS), *requests]) + "\n",
                    alerts="\n".join([",".join(facts.ALERT_FIELDS), *alerts]) + "\n")


def load(stdout=None):
    services.ensure_measures()
    # The fold takes a bounded batch per call (as the every-minute task does); the demo folds all
    # of the adapter's demo traffic now, so the report shows it at once.
    folded = [0, 0]
    for _ in range(1000):
        requests, alerts = facts.fold_adapter()
        folded[0] += requests
        folded[1] += alerts
        if not (requests or alerts):
            break
    this_month = metrics.month_start(timezone.localdate())
    previous = metrics.previous_month(this_month)
    users = list(Organisation.objects.filter(kind="service_user", is_active=True).order_by("code"))
    codes = [o.code for o in users]
    start, end = metrics.month_bounds(previous)
    if codes and not RequestFact.objects.filter(start_at__gte=start, start_at__lt=end).exists():
        _generated(previous, codes)
    for month in (previous, this_month):
        for provider, amount in PROVIDER_CHARGES.items():
            if not Charge.objects.filter(month=month, provider=provider).exists():
                services.charge_set(month=month, amount=amount, actor=None, provider=provider)
        for index, organisation in enumerate(users):
            if not Charge.objects.filter(month=month, organisation=organisation).exists():
                services.charge_set(month=month, amount=Decimal(150000 + 37500 * index), actor=None,
                                    organisation=organisation)
    # The incident measures of both months (the freeze recounts the previous one as well).
    incidents.refresh_recent()
    run, issued = services.month_freeze(month=previous, notify=False)
    if stdout:
        stdout.write(f"slas: folded {folded[0]} requests and {folded[1]} alerts; {previous:%Y-%m} frozen "
                     f"(run v{run.version}, {len(issued)} statements issued now)")

"""Generated facts for slas tests: CSV text in the import format, reproducible from a seed."""
import csv
import datetime as dt
import io
import random

from slas.facts import ALERT_FIELDS, REQUEST_FIELDS

UTC = dt.UTC
TYPES = ["on_demand", "future_dated_ack", "future_dated_response", "firmware", "dcc_only", "dsp_scheduled",
         "meter_scheduled"]
REGIONS = ["north", "central", "south"]


def iso(moment):
    return moment.isoformat() if moment is not None else ""


def request_row(request_id, organisation, start, *, mtype="on_demand", region="north", received=None,
                outbound=1.0, csp=5.0, han=2.0, inbound=0.5, outcome="I0", missing=()):
    """One request row: each leg given in seconds; ``missing`` names timestamps left empty."""
    t0 = received or start
    t1 = t0 + dt.timedelta(seconds=outbound)
    t2 = t1 + dt.timedelta(seconds=csp / 2)
    t3 = t2 + dt.timedelta(seconds=han)
    t4 = t3 + dt.timedelta(seconds=csp / 2)
    t5 = t4 + dt.timedelta(seconds=inbound)
    times = {"received_at": t0, "dsp_sent_at": t1, "wan_delivered_at": t2, "device_responded_at": t3,
             "wan_returned_at": t4, "responded_at": t5}
    if mtype == "dcc_only":
        times.update(dsp_sent_at=None, wan_delivered_at=None, device_responded_at=None, wan_returned_at=None)
    for name in missing:
        times[name] = None
    return {"request_id": request_id, "srv": "4.1.1", "measurement_type": mtype, "organisation": organisation,
            "device_id": "00-DB-12-34-56-78-90-A0", "region": region, "start_at": iso(start),
            **{k: iso(v) for k, v in times.items()}, "outcome": outcome}


def alert_row(alert_id, organisation, raised, *, region="north", csp=10.0, dsp=1.0, missing=()):
    a2 = raised + dt.timedelta(seconds=csp)
    a3 = a2 + dt.timedelta(seconds=dsp)
    times = {"wan_received_at": a2, "delivered_at": a3}
    for name in missing:
        times[name] = None
    return {"alert_id": alert_id, "alert_code": "8F35", "organisation": organisation,
            "device_id": "00-DB-12-34-56-78-90-A0", "region": region, "raised_at": iso(raised),
            **{k: iso(v) for k, v in times.items()}}


def to_csv(rows, fields):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def requests_csv(rows):
    return to_csv(rows, REQUEST_FIELDS)


def alerts_csv(rows):
    return to_csv(rows, ALERT_FIELDS)


def generated_month(year, month, organisations, *, requests=3000, alerts=600, seed=7):
    """A month of varied traffic: every type, every region, misses, missing ends, rejections, and
    a few rows just outside the month (which must not count)."""
    rng = random.Random(seed)
    first = dt.datetime(year, month, 1, tzinfo=UTC)
    request_rows, alert_rows = [], []
    for n in range(requests):
        start = first + dt.timedelta(seconds=rng.uniform(-3600, 30 * 86400))
        mtype = rng.choice(TYPES)
        scale = 1 if mtype in ("on_demand", "dcc_only") else 3000
        missing = ()
        roll = rng.random()
        if roll < 0.03:
            missing = ("responded_at",)
        elif roll < 0.05:
            missing = ("wan_returned_at", "responded_at")
        outcome = "E19" if roll > 0.98 else "I0"
        if outcome != "I0":
            missing = ("dsp_sent_at", "wan_delivered_at", "device_responded_at", "wan_returned_at", "responded_at")
        request_rows.append(request_row(
            f"R{n}", rng.choice(organisations), start, mtype=mtype, region=rng.choice(REGIONS),
            received=start - dt.timedelta(seconds=rng.choice([0, 0, 5])),
            outbound=rng.lognormvariate(0, 0.8) * scale, csp=rng.lognormvariate(2.3, 0.6) * scale,
            han=rng.uniform(0, 20), inbound=rng.lognormvariate(-1, 0.7) * scale, outcome=outcome, missing=missing))
    for n in range(alerts):
        raised = first + dt.timedelta(seconds=rng.uniform(0, 29 * 86400))
        alert_rows.append(alert_row(f"A{n}", rng.choice(organisations), raised, region=rng.choice(REGIONS),
                                    csp=rng.lognormvariate(3, 0.5), dsp=rng.lognormvariate(0.5, 0.8),
                                    missing=("delivered_at",) if rng.random() < 0.02 else ()))
    return request_rows, alert_rows

"""The arithmetic of service measures, free of the database: London days and months, interval
durations from timestamps, and the log-bucket latency histogram.

Durations are integers of microseconds so that "within target" is exact (a boundary value is
within). A fact keeps one duration per interval: None when the interval never started (the
request is not measured by it), MISS (-1) when it started but never ended (a miss).
"""
import datetime as dt
import math
from decimal import Decimal
from zoneinfo import ZoneInfo

from slas.choices import Interval, MeasurementType, ProviderKind

LONDON = ZoneInfo("Europe/London")
MISS = -1
US = dt.timedelta(microseconds=1)

# Histogram: bucket b holds durations in [BASE * R**b, BASE * R**(b+1)); its representative value
# is the geometric middle BASE * R**(b + 0.5), at most sqrt(R) - 1 = 0.5% from any value in it.
# R = 1.01 rather than 1.02: with 1.02 a p99 lying near a bucket edge could be reported from the
# next bucket, 1.2% off (measured); half-width buckets leave room for that under the 1% bound.
# Changing R changes what a stored bucket index means: run slas_rebuild_rollups for kept months.
# Durations under BASE (1 ms) all fall in bucket 0; nothing the measures time is that short.
HIST_BASE_US = 1000
HIST_RATIO = 1.01
_LOG_RATIO = math.log(HIST_RATIO)


def london_day(moment):
    """The London calendar date of an aware datetime (the day and month a fact counts in)."""
    return moment.astimezone(LONDON).date()


def month_start(value):
    return dt.date(value.year, value.month, 1)


def next_month(month):
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month):
    return dt.date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month):
    """UTC instants [start, end) of a London calendar month. Built from local midnights, so a
    month with a clock change has 743 (March) or 745 (October) hours, as it should."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=LONDON)
    following = next_month(month)
    end = dt.datetime(following.year, following.month, 1, tzinfo=LONDON)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def error_budget(target_pct):
    """The share of measured requests a measure may miss and still meet its target of
    ``target_pct`` percent: (100 - T) / 100, exact (a 99% target allows 1 miss in 100). The
    dashboard's budget and the burn-rate warnings both measure spending against it."""
    return (Decimal(100) - Decimal(target_pct)) / 100


def parse_month(text):
    """'YYYY-MM' -> the first day of that month, or ValueError."""
    try:
        month = dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except (ValueError, AttributeError):
        raise ValueError(f"month must look like 2025-03, not {text!r}") from None
    # Month arithmetic reaches a year either side; far-off years are typing slips, not months.
    if not 1970 <= month.year <= 2999:
        raise ValueError(f"month {text.strip()!r} is out of range (1970-01 to 2999-12)")
    return month


def _utc(moment):
    # Python subtracts and compares two datetimes sharing one tzinfo (e.g. Europe/London) by wall
    # clock, which is wrong across a clock change; in UTC it is elapsed time.
    return moment.astimezone(dt.UTC) if moment is not None else None


def _span(start, end):
    return (end - start) // US


def _han(t2, t3):
    # HAN and meter time is never counted; when either end of it is unknown there is none to remove.
    return _span(t2, t3) if t2 is not None and t3 is not None else 0


def _interval(start, end, minus=0):
    if start is None:
        return None
    if end is None:
        return MISS
    return max(0, _span(start, end) - minus)


def request_durations(*, start_at, received_at, dsp_sent_at, wan_delivered_at, device_responded_at,
                      wan_returned_at, responded_at):
    """Every request interval's duration in microseconds (None / MISS as described above)."""
    start_at, received_at, dsp_sent_at, wan_delivered_at, device_responded_at, wan_returned_at, responded_at = map(
        _utc, (start_at, received_at, dsp_sent_at, wan_delivered_at, device_responded_at, wan_returned_at,
               responded_at))
    han = _han(wan_delivered_at, device_responded_at)
    clock = max(received_at, start_at) if received_at is not None else None
    return {
        "dsp_outbound_us": _interval(clock, dsp_sent_at),
        "csp_us": _interval(dsp_sent_at, wan_returned_at, han),
        "dsp_inbound_us": _interval(wan_returned_at, responded_at),
        "dsp_total_us": _interval(clock, responded_at),
        "end_to_end_us": _interval(start_at, responded_at, han),
    }


def alert_durations(*, raised_at, wan_received_at, delivered_at):
    raised_at, wan_received_at, delivered_at = map(_utc, (raised_at, wan_received_at, delivered_at))
    return {
        "csp_us": _interval(raised_at, wan_received_at),
        "dsp_us": _interval(wan_received_at, delivered_at),
        "end_to_end_us": _interval(raised_at, delivered_at),
    }


def bucket(duration_us):
    if duration_us < HIST_BASE_US * HIST_RATIO:
        return 0
    return int(math.floor(math.log(duration_us / HIST_BASE_US) / _LOG_RATIO))


def bucket_seconds(index):
    return HIST_BASE_US * HIST_RATIO ** (int(index) + 0.5) / 1_000_000


def merge_histogram(into, other):
    get = into.get
    for key, count in other.items():
        if key.__class__ is not str:  # Counters built in Python have int keys; JSON gives strings
            key = str(key)
        into[key] = get(key, 0) + count
    return into


def percentiles_cont(histogram, fractions):
    """Percentiles (seconds) as PostgreSQL's percentile_cont defines them: the value at position
    p x (n - 1) of the sorted values, interpolated between the two order statistics around it, each
    read as its bucket's representative value (within half a bucket, 0.5%, of the true one). A
    nearest-rank percentile can be a whole order statistic away, which in a sparse tail is more
    than 1%. None each when the histogram is empty."""
    total = sum(histogram.values())
    if not total:
        return [None] * len(fractions)
    wanted = []  # 0-based ranks of the order statistics needed, with where each goes
    for fraction in fractions:
        position = fraction * (total - 1)
        low = math.floor(position)
        wanted.append((low, min(low + 1, total - 1), position - low))
    ranks = sorted({r for low, high, _ in wanted for r in (low, high)})
    values, seen, pending = {}, 0, 0
    for key in sorted(histogram, key=int):
        seen += histogram[key]
        while pending < len(ranks) and ranks[pending] < seen:
            values[ranks[pending]] = bucket_seconds(key)
            pending += 1
        if pending == len(ranks):
            break
    return [values[low] + weight * (values[high] - values[low]) for low, high, weight in wanted]


H = 3600
# The seed's table (DOMAIN.md section 5) as measures: (code, name, provider, measurement type,
# interval, target seconds). Where a row gives two figures ("29 s / 24 h") the on-demand one is
# used; the end-to-end figures of the acknowledgement, firmware and DCC-only rows have no PM code
# in the seed, so they are not measures (a DCC administrator can add them).
SEED_MEASURES = [
    ("PM1", "On-demand responses end-to-end", ProviderKind.E2E, MeasurementType.ON_DEMAND, Interval.END_TO_END, 30),
    ("SM1.1", "DSP outbound, on-demand", ProviderKind.DSP, MeasurementType.ON_DEMAND, Interval.DSP_OUTBOUND, 4),
    ("SM1.6", "DSP inbound, on-demand", ProviderKind.DSP, MeasurementType.ON_DEMAND, Interval.DSP_INBOUND, 1),
    ("SM4.1", "CSP, on-demand", ProviderKind.CSP, MeasurementType.ON_DEMAND, Interval.CSP, 25),
    ("SM1.1", "DSP outbound, future-dated acknowledgement", ProviderKind.DSP, MeasurementType.FUTURE_DATED_ACK,
     Interval.DSP_OUTBOUND, 21 * H),
    ("SM4.3", "CSP, future-dated acknowledgement", ProviderKind.CSP, MeasurementType.FUTURE_DATED_ACK,
     Interval.CSP, 2 * H),
    ("PM2", "Future-dated responses end-to-end", ProviderKind.E2E, MeasurementType.FUTURE_DATED_RESPONSE,
     Interval.END_TO_END, 24 * H),
    ("SM1.2", "DSP outbound, future-dated response", ProviderKind.DSP, MeasurementType.FUTURE_DATED_RESPONSE,
     Interval.DSP_OUTBOUND, 30 * 60),
    ("SM4.3", "CSP, future-dated response", ProviderKind.CSP, MeasurementType.FUTURE_DATED_RESPONSE,
     Interval.CSP, 22 * H),
    ("SM1.2", "DSP outbound, firmware delivery", ProviderKind.DSP, MeasurementType.FIRMWARE,
     Interval.DSP_OUTBOUND, 22 * H),
    ("SM2.1", "CSP, firmware delivery", ProviderKind.CSP, MeasurementType.FIRMWARE, Interval.CSP, 4 * 24 * H),
    ("SM1.4", "DSP, DCC-only response", ProviderKind.DSP, MeasurementType.DCC_ONLY, Interval.DSP_TOTAL, 29),
    ("SM1.6", "DSP inbound, DCC-only", ProviderKind.DSP, MeasurementType.DCC_ONLY, Interval.DSP_INBOUND, 1),
    ("PM2", "DSP-scheduled responses end-to-end", ProviderKind.E2E, MeasurementType.DSP_SCHEDULED,
     Interval.END_TO_END, 24 * H),
    ("SM1.2", "DSP outbound, DSP-scheduled", ProviderKind.DSP, MeasurementType.DSP_SCHEDULED,
     Interval.DSP_OUTBOUND, 30 * 60),
    ("SM1.3", "DSP inbound, DSP-scheduled", ProviderKind.DSP, MeasurementType.DSP_SCHEDULED,
     Interval.DSP_INBOUND, 21 * H),
    ("SM4.2", "CSP, DSP-scheduled", ProviderKind.CSP, MeasurementType.DSP_SCHEDULED, Interval.CSP, 2 * H),
    ("PM2", "Meter-scheduled responses end-to-end", ProviderKind.E2E, MeasurementType.METER_SCHEDULED,
     Interval.END_TO_END, 24 * H),
    ("SM1.2", "DSP outbound, meter-scheduled", ProviderKind.DSP, MeasurementType.METER_SCHEDULED,
     Interval.DSP_OUTBOUND, 30 * 60),
    ("SM3.1", "CSP, meter-scheduled", ProviderKind.CSP, MeasurementType.METER_SCHEDULED, Interval.CSP, 22 * H),
    ("PM3", "Alerts end-to-end", ProviderKind.E2E, MeasurementType.ALERT, Interval.ALERT_END_TO_END, 60),
    ("SM1.5", "DSP alert leg", ProviderKind.DSP, MeasurementType.ALERT, Interval.ALERT_DSP, 4),
    ("SM3.2", "CSP alert leg", ProviderKind.CSP, MeasurementType.ALERT, Interval.ALERT_CSP, 55),
]


def seed_rows():
    return [
        {"code": code, "name": name, "provider": provider, "measurement_type": mtype, "interval": interval,
         "target_seconds": Decimal(seconds), "position": position}
        for position, (code, name, provider, mtype, interval, seconds) in enumerate(SEED_MEASURES)
    ]

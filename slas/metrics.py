"""The arithmetic of service measures: London days and months, interval durations from
timestamps, "measured" and "within target", and the log-bucket latency histogram. Each is defined
once here, as a table or a function, with its PostgreSQL rendering (psycopg.sql, no connection
needed) beside it: the Python and SQL paths of slas.facts and slas.rollups both read them.

Durations are integers of microseconds so that "within target" is exact (a boundary value is
within). A fact keeps one duration per interval: None when the interval never started (the
request is not measured by it), MISS (-1) when it started but never ended (a miss).
"""
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db.models import Q
from psycopg import sql

from slas.choices import INTERVAL_COLUMN, Interval, MeasurementType, MeasureState, ProviderKind

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


def measure_state(achieved_pct, target_pct, minimum_pct) -> MeasureState:
    """Met (at or above target), between target and minimum, or at or below minimum (as the
    credit terms count a shortfall); not measured when nothing was (achieved is None). The one
    rule for the dashboard's tile, the report and the statement."""
    if achieved_pct is None:
        return MeasureState.NOT_MEASURED
    # Fractions, exact: the report's achieved share is one (a rounded 99.00 % may still miss 99).
    achieved = Fraction(str(achieved_pct))
    if achieved >= Fraction(str(target_pct)):
        return MeasureState.MET
    if achieved <= Fraction(str(minimum_pct)):
        return MeasureState.BELOW
    return MeasureState.BETWEEN


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


# --- the measures' definition: one table, evaluated here in Python and rendered below as SQL ----
#
# Every path that turns timestamps into facts and facts into counts reads these tables: the file
# loader and the fold on SQLite evaluate them in Python (request_measures, alert_measures, within),
# the same loader and fold on PostgreSQL run the SQL rendered from them (request_measures_sql,
# alert_measures_sql, within_sql), and the rollups count "within target" through within/within_sql.
# A change here changes both; tests/slas/test_one_definition.py holds the two to the same facts.

@dataclass(frozen=True)
class Later:
    """The later of two timestamps, unknown while ``first`` is: the DSP's clock starts at receipt
    (t0) or, for a request dated in the future, at its execution time (start_at)."""

    first: str
    second: str


@dataclass(frozen=True)
class Span:
    """An interval: from ``start`` to ``end`` (timestamp columns), less HAN and meter time when
    ``less_han``. Not started (start unknown): the request is not measured by it; started but not
    ended: a miss (MISS)."""

    start: "str | Later"
    end: str
    less_han: bool = False


CLOCK = Later("received_at", "start_at")
HAN = ("wan_delivered_at", "device_responded_at")  # t2 -> t3: HAN and meter time, never counted

# Interval -> how it is timed; the fact column holding it is slas.choices.INTERVAL_COLUMN.
REQUEST_SPANS = {
    Interval.DSP_OUTBOUND: Span(CLOCK, "dsp_sent_at"),
    Interval.CSP: Span("dsp_sent_at", "wan_returned_at", less_han=True),
    Interval.DSP_INBOUND: Span("wan_returned_at", "responded_at"),
    Interval.DSP_TOTAL: Span(CLOCK, "responded_at"),
    Interval.END_TO_END: Span("start_at", "responded_at", less_han=True),
}
ALERT_SPANS = {
    Interval.ALERT_CSP: Span("raised_at", "wan_received_at"),
    Interval.ALERT_DSP: Span("wan_received_at", "delivered_at"),
    Interval.ALERT_END_TO_END: Span("raised_at", "delivered_at"),
}
REQUEST_TIMES = ("start_at", "received_at", "dsp_sent_at", "wan_delivered_at", "device_responded_at",
                 "wan_returned_at", "responded_at")
ALERT_TIMES = ("raised_at", "wan_received_at", "delivered_at")
REQUEST_COLUMNS = tuple(INTERVAL_COLUMN[i] for i in REQUEST_SPANS)  # a request fact's durations
ALERT_COLUMNS = tuple(INTERVAL_COLUMN[i] for i in ALERT_SPANS)


@dataclass(frozen=True)
class TypeRule:
    """What a measurement type is measured on. ``alerts``: alert facts (else request facts);
    ``leaves_dcc``: False when the request never leaves DCC (DCC-only), so a rejection inside DCC
    is still a measured response; ``adapter``: the adapter's measurement type folded into it (the
    adapter records one set of timestamps for a future-dated request, those of its execution, so
    it is measured as the future response). Every measure's target is its own Measure.target_seconds."""

    alerts: bool = False
    leaves_dcc: bool = True
    adapter: str | None = None


MEASUREMENT_TYPES = {
    MeasurementType.ON_DEMAND: TypeRule(adapter="on_demand"),
    MeasurementType.FUTURE_DATED_ACK: TypeRule(),
    MeasurementType.FUTURE_DATED_RESPONSE: TypeRule(adapter="future_dated"),
    MeasurementType.FIRMWARE: TypeRule(adapter="firmware"),
    MeasurementType.DCC_ONLY: TypeRule(leaves_dcc=False, adapter="dcc_only"),
    MeasurementType.DSP_SCHEDULED: TypeRule(adapter="dsp_scheduled"),
    MeasurementType.METER_SCHEDULED: TypeRule(adapter="meter_scheduled"),
    MeasurementType.ALERT: TypeRule(alerts=True),
}
REQUEST_TYPES = tuple(str(t) for t, rule in MEASUREMENT_TYPES.items() if not rule.alerts)
STAYS_IN_DCC = tuple(str(t) for t, rule in MEASUREMENT_TYPES.items() if not rule.alerts and not rule.leaves_dcc)
ADAPTER_MEASUREMENT_TYPE = {rule.adapter: str(t) for t, rule in MEASUREMENT_TYPES.items() if rule.adapter}

# "Measured": a request answered with an error (an outcome not starting with ANSWERED) before DSP
# sent it anywhere (no SENT stamp) was rejected inside DCC and is not measured, unless its type
# never leaves DCC; an adapter request that ended in one of UNMEASURED_STATES never left DCC for a
# reason outside the providers and is not measured either.
ANSWERED = "I"
SENT = "dsp_sent_at"
UNMEASURED_STATES = ("cancelled", "quarantined", "rejected")


def is_measured(*, measurement_type: str, outcome: str | None, dsp_sent_at: dt.datetime | None,
                state: str | None = None) -> bool:
    if state in UNMEASURED_STATES:
        return False
    rejected_inside = outcome is not None and outcome != "" and not outcome.startswith(ANSWERED) and dsp_sent_at is None
    return not (rejected_inside and measurement_type not in STAYS_IN_DCC)


def within(duration_us: int, target_us: int) -> bool:
    """Within target: ended (not a miss) no later than the target; a boundary value is within."""
    return 0 <= duration_us <= target_us


def _span(start, end):
    return (end - start) // US


def _start(start, times):
    if isinstance(start, Later):
        first = times[start.first]
        return None if first is None else max(first, times[start.second])
    return times[start]


def _durations(spans, times):
    times = {name: _utc(value) for name, value in times.items()}
    han = None
    out = {}
    for interval, span in spans.items():
        start = _start(span.start, times)
        end = times[span.end]
        if start is None:
            out[INTERVAL_COLUMN[interval]] = None
        elif end is None:
            out[INTERVAL_COLUMN[interval]] = MISS
        else:
            minus = 0
            if span.less_han:
                if han is None:
                    t2, t3 = times[HAN[0]], times[HAN[1]]
                    # When either end of HAN time is unknown there is none to remove.
                    han = _span(t2, t3) if t2 is not None and t3 is not None else 0
                minus = han
            out[INTERVAL_COLUMN[interval]] = max(0, _span(start, end) - minus)
    return out


def request_durations(*, start_at, received_at, dsp_sent_at, wan_delivered_at, device_responded_at,
                      wan_returned_at, responded_at):
    """Every request interval's duration in microseconds (None / MISS as described above)."""
    return _durations(REQUEST_SPANS, {
        "start_at": start_at, "received_at": received_at, "dsp_sent_at": dsp_sent_at,
        "wan_delivered_at": wan_delivered_at, "device_responded_at": device_responded_at,
        "wan_returned_at": wan_returned_at, "responded_at": responded_at})


def alert_durations(*, raised_at, wan_received_at, delivered_at):
    return _durations(ALERT_SPANS, {"raised_at": raised_at, "wan_received_at": wan_received_at,
                                    "delivered_at": delivered_at})


def request_measures(row: Mapping) -> dict:
    """What a request fact derives from its row (timestamps as aware datetimes or None, the
    measurement type, the outcome and, from the adapter, the state): measured, day, durations."""
    return {"measured": is_measured(measurement_type=row["measurement_type"], outcome=row["outcome"],
                                    dsp_sent_at=row[SENT], state=row.get("state")),
            "day": london_day(row["start_at"]),
            **_durations(REQUEST_SPANS, {name: row[name] for name in REQUEST_TIMES})}


def alert_measures(row: Mapping) -> dict:
    """What an alert fact derives from its row: day and durations."""
    return {"day": london_day(row["raised_at"]), **_durations(ALERT_SPANS, {name: row[name] for name in ALERT_TIMES})}


# --- the same table as PostgreSQL expressions ----------------------------------------------------
# Composed with psycopg.sql over columns of the row being read (same names as above), so a loader
# writes "INSERT ... SELECT <these>" and the database does the arithmetic in one pass.

def _col(name):
    return sql.Identifier(name)


def _us_sql(start, end):
    # date_part on an interval is float8 arithmetic, twice as fast as extract (numeric since PG 14);
    # rounding recovers the exact microseconds for any interval shorter than a century.
    return sql.SQL("round(date_part('epoch', {} - {}) * 1000000)::bigint").format(end, start)


def _start_sql(start):
    if isinstance(start, Later):
        return sql.SQL("CASE WHEN {a} IS NULL THEN NULL ELSE greatest({a}, {b}) END").format(
            a=_col(start.first), b=_col(start.second))
    return _col(start)


def _durations_sql(spans):
    han = sql.SQL("CASE WHEN {a} IS NOT NULL AND {b} IS NOT NULL THEN {us} ELSE 0 END").format(
        a=_col(HAN[0]), b=_col(HAN[1]), us=_us_sql(_col(HAN[0]), _col(HAN[1])))
    out = []
    for interval, span in spans.items():
        start, end = _start_sql(span.start), _col(span.end)
        out.append((INTERVAL_COLUMN[interval], sql.SQL(
            "CASE WHEN {start} IS NULL THEN NULL WHEN {end} IS NULL THEN {miss} "
            "ELSE greatest(0, {us} - {minus}) END").format(
                start=start, end=end, miss=sql.Literal(MISS), us=_us_sql(start, end),
                minus=han if span.less_han else sql.Literal(0))))
    return out


def _day_sql(column):
    return sql.SQL("({} AT TIME ZONE {})::date").format(_col(column), sql.Literal(LONDON.key))


def _in(values):
    return sql.SQL(", ").join(sql.Literal(v) for v in values)


def measured_sql(*, state: str | None = None) -> sql.Composable:
    """is_measured as SQL over columns measurement_type, outcome, dsp_sent_at (and ``state``)."""
    expr = sql.SQL("NOT (coalesce({outcome}, '') <> '' AND NOT starts_with({outcome}, {ok}) AND {sent} IS NULL "
                   "AND {mtype} NOT IN ({stays}))").format(
        outcome=_col("outcome"), ok=sql.Literal(ANSWERED), sent=_col(SENT), mtype=_col("measurement_type"),
        stays=_in(STAYS_IN_DCC))
    if state is not None:
        expr = sql.SQL("coalesce({state}, '') NOT IN ({states}) AND {expr}").format(
            state=_col(state), states=_in(UNMEASURED_STATES), expr=expr)
    return expr


def request_measures_sql(*, state: str | None = None) -> list[tuple[str, sql.Composable]]:
    """request_measures as [(fact column, SQL expression)]."""
    return [("measured", measured_sql(state=state)), ("day", _day_sql("start_at")), *_durations_sql(REQUEST_SPANS)]


def alert_measures_sql() -> list[tuple[str, sql.Composable]]:
    """alert_measures as [(fact column, SQL expression)]."""
    return [("day", _day_sql("raised_at")), *_durations_sql(ALERT_SPANS)]


def adapter_type_sql(column: sql.Composable) -> sql.Composable:
    """ADAPTER_MEASUREMENT_TYPE as SQL: the adapter's token in ``column`` -> ours (NULL: not measured)."""
    return sql.SQL("CASE {} {} END").format(column, sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(theirs), sql.Literal(ours))
        for theirs, ours in ADAPTER_MEASUREMENT_TYPE.items()))


def within_sql(duration: sql.Composable, target_us: sql.Composable) -> sql.Composable:
    """within() as SQL."""
    return sql.SQL("({d} >= 0 AND {d} <= {t})").format(d=duration, t=target_us)


def within_q(column: str, target_us: int) -> Q:
    """within() as a Django filter on a fact's duration column (for querysets over facts)."""
    return Q(**{f"{column}__gte": 0, f"{column}__lte": target_us})


# --- incidents: timed by the service desk's incident clock --------------------------------------
#
# An incident measure times one Incident Category's response or resolution clock (servicedesk.clock:
# raised_at to the first response or the resolution, paused minutes never counted, in working
# hours where the category's target says so). Its duration is the clock's elapsed time and its
# target the category's, so within() and the clock's breach agree (a clock stopped exactly on its
# target is within, not breached).
#
# Which month it counts in: the London day it was decided, whichever came first of the clock
# stopping (within target, or late) and the clock passing its target (a breach). A breach is
# decided at that instant and never undone, so a month's figures do not move when a late incident
# is finally resolved; a clock still running within its target is not measured yet.

INCIDENT_CLOCK = {Interval.INCIDENT_RESPONSE: "response", Interval.INCIDENT_RESOLUTION: "resolution"}


def incident_measure(*, elapsed: dt.timedelta, stopped_at: dt.datetime | None,
                     breached_at: dt.datetime | None) -> tuple[dt.date, int] | None:
    """(London day it counts on, duration in microseconds or MISS) of one incident clock, or None
    while it runs within target. Late and stopped: its (late) duration; late and running: MISS."""
    if breached_at is not None and (stopped_at is None or _utc(breached_at) < _utc(stopped_at)):
        return london_day(breached_at), MISS if stopped_at is None else elapsed // US
    if stopped_at is not None:
        return london_day(stopped_at), elapsed // US
    return None


# The incident measures: two per Incident Category, held to account per resolver. The targets
# (share of incidents within the category's time) are defaults to be set by DCC, not regulation;
# the times themselves are the service desk's target table.
INCIDENT_TARGET_PCT = Decimal("95.00")
INCIDENT_MINIMUM_PCT = Decimal("90.00")
INCIDENT_CATEGORIES = (1, 2, 3, 4, 5)


def incident_seed_rows():
    rows = []
    for category in INCIDENT_CATEGORIES:
        for interval, word, code in ((Interval.INCIDENT_RESPONSE, "response", "RSP"),
                                     (Interval.INCIDENT_RESOLUTION, "resolution", "RES")):
            rows.append({"code": f"INC-{code}-{category}",
                         "name": f"Incident {word} within target, category {category}",
                         "provider": ProviderKind.RESOLVER, "measurement_type": MeasurementType.INCIDENT,
                         "interval": interval, "category": category, "target_seconds": Decimal(0),
                         "target_pct": INCIDENT_TARGET_PCT, "minimum_pct": INCIDENT_MINIMUM_PCT,
                         "position": 100 + 2 * category + (interval == Interval.INCIDENT_RESOLUTION)})
    return rows


def bucket(duration_us):
    if duration_us < HIST_BASE_US * HIST_RATIO:
        return 0
    return int(math.floor(math.log(duration_us / HIST_BASE_US) / _LOG_RATIO))


def bucket_sql(duration: sql.Composable) -> sql.Composable:
    """bucket() as SQL, for a duration known to be >= 0."""
    return sql.SQL("CASE WHEN {d} < {first} THEN 0 "
                   "ELSE floor(ln({d}::float8 / {base}::float8) / {log}::float8)::int END").format(
        d=duration, first=sql.Literal(HIST_BASE_US * HIST_RATIO), base=sql.Literal(float(HIST_BASE_US)),
        log=sql.Literal(_LOG_RATIO))


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

"""Loading facts: from files (slas_import_facts) and from the adapter's completed records (fold).

Files can hold tens of millions of rows, so they are streamed rather than read through
portal.tabular (which holds a whole table in memory for previews). On PostgreSQL the file goes
through COPY into a staging table, is checked there by SQL (every bad row reported by its line),
and is moved into the fact table and the rollups by INSERT ... SELECT, in one transaction. On
other databases (SQLite: tests, demo) rows are parsed in Python and bulk-created. Either way a
file with one bad row loads nothing.
"""
import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.apps import apps
from django.db import DataError, IntegrityError, connection, transaction

from portal.choices import Region
from portal.models import Organisation
from slas import metrics, rollups
from slas.choices import ADAPTER_MEASUREMENT_TYPE, UNMEASURED_STATES, MeasurementType
from slas.models import AlertFact, FoldState, RequestFact

REQUEST_FIELDS = ["request_id", "srv", "measurement_type", "organisation", "device_id", "region", "start_at",
                  "received_at", "dsp_sent_at", "wan_delivered_at", "device_responded_at", "wan_returned_at",
                  "responded_at", "outcome"]
ALERT_FIELDS = ["alert_id", "alert_code", "organisation", "device_id", "region", "raised_at", "wan_received_at",
                "delivered_at"]
REQUEST_TIMES = REQUEST_FIELDS[6:13]
ALERT_TIMES = ALERT_FIELDS[5:8]
REQUEST_TYPES = [t.value for t in MeasurementType if t != MeasurementType.ALERT]
REGIONS = [r.value for r in Region]
MAX_ERRORS = 100
ISO_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$"


@dataclass
class LoadResult:
    requests: int = 0
    alerts: int = 0
    errors: list = field(default_factory=list)  # [(file label, line, message)]


class FactsRejected(Exception):
    def __init__(self, errors):
        super().__init__(f"{len(errors)} bad rows; nothing loaded")
        self.errors = errors


def is_measured(*, outcome, dsp_sent_at, measurement_type):
    """A request answered with an error before DSP sent it anywhere was rejected inside DCC (E-code
    outcome, no dsp_sent_at): not measured. DCC-only requests never leave DCC, so they always are."""
    return not (outcome and not outcome.startswith("I") and dsp_sent_at is None
                and measurement_type != MeasurementType.DCC_ONLY)


def request_fact_values(*, start_at, measurement_type, outcome, **times):
    values = {"start_at": start_at, "measurement_type": measurement_type, "outcome": outcome, **times,
              "day": metrics.london_day(start_at),
              "measured": is_measured(outcome=outcome, dsp_sent_at=times.get("dsp_sent_at"),
                                      measurement_type=measurement_type)}
    values.update(metrics.request_durations(start_at=start_at, **times))
    return values


def alert_fact_values(*, raised_at, wan_received_at, delivered_at):
    return {"raised_at": raised_at, "wan_received_at": wan_received_at, "delivered_at": delivered_at,
            "day": metrics.london_day(raised_at),
            **metrics.alert_durations(raised_at=raised_at, wan_received_at=wan_received_at,
                                      delivered_at=delivered_at)}


# --- files --------------------------------------------------------------------------------------

def _parse_time(text, column, errors, label, line):
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        errors.append((label, line, f"{column}: {text!r} is not an ISO 8601 time with an offset"))
        return None
    return value


def _header(handle, label, expected):
    first = handle.readline().lstrip("\ufeff")
    header = [h.strip().lower() for h in next(csv.reader([first]), [])]
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown:
        raise FactsRejected([(label, 1, (f"missing columns: {', '.join(missing)}" if missing else "")
                              + ("; " if missing and unknown else "")
                              + (f"unknown columns: {', '.join(unknown)}" if unknown else ""))])
    return header


def _python_rows(handle, header, label, kind, codes, errors, seen_ids):
    reader = csv.reader(handle)
    for line, values in enumerate(reader, start=2):
        if not any(values):
            continue
        if len(values) != len(header):
            errors.append((label, line, f"{len(values)} cells where the header has {len(header)}"))
            continue
        row = dict(zip(header, (v.strip() for v in values), strict=True))
        before = len(errors)
        key = row["request_id" if kind == "requests" else "alert_id"]
        if not key:
            errors.append((label, line, f"{'request_id' if kind == 'requests' else 'alert_id'}: required"))
        elif key in seen_ids:
            errors.append((label, line, f"{key}: appears twice in the file (also line {seen_ids[key]})"))
        else:
            seen_ids[key] = line
        org = codes.get(row["organisation"])
        if org is None:
            errors.append((label, line, f"organisation: no organisation with code {row['organisation']!r}"))
        if row["region"] not in REGIONS and row["region"] != "":
            errors.append((label, line, f"region: {row['region']!r} is not one of {', '.join(REGIONS)}"))
        times = {c: _parse_time(row[c], c, errors, label, line) for c in (REQUEST_TIMES if kind == "requests"
                                                                           else ALERT_TIMES)}
        first = "start_at" if kind == "requests" else "raised_at"
        if not row[first]:
            errors.append((label, line, f"{first}: required"))
        if kind == "requests" and row["measurement_type"] not in REQUEST_TYPES:
            errors.append((label, line, f"measurement_type: {row['measurement_type']!r} is not one of "
                                        f"{', '.join(REQUEST_TYPES)}"))
        if kind == "requests" and len(row["outcome"]) > 8:
            errors.append((label, line, "outcome: longer than 8 characters"))
        if len(errors) > before:
            if len(errors) >= MAX_ERRORS:
                return
            continue
        common = {"organisation_id": org, "device_id": row["device_id"], "region": row["region"]}
        if kind == "requests":
            yield RequestFact(request_id=key, srv=row["srv"], **common, **request_fact_values(
                measurement_type=row["measurement_type"], outcome=row["outcome"], **times))
        else:
            yield AlertFact(alert_id=key, alert_code=row["alert_code"], **common, **alert_fact_values(**times))


def _load_python(sources, codes):
    result, errors = LoadResult(), []
    loaded = {"requests": [], "alerts": []}
    for kind, label, handle in sources:
        header = _header(handle, label, REQUEST_FIELDS if kind == "requests" else ALERT_FIELDS)
        seen = {}
        loaded[kind] = list(_python_rows(handle, header, label, kind, codes, errors, seen))
        model = RequestFact if kind == "requests" else AlertFact
        key = "request_id" if kind == "requests" else "alert_id"
        ids = list(seen)
        for start in range(0, len(ids), 5000):
            for existing in model.objects.filter(**{f"{key}__in": ids[start:start + 5000]}).values_list(key, flat=True):
                errors.append((label, seen[existing], f"{existing}: already loaded"))
    if errors:
        raise FactsRejected(sorted(errors, key=lambda e: (e[0], e[1]))[:MAX_ERRORS])
    for kind, model in (("requests", RequestFact), ("alerts", AlertFact)):
        model.objects.bulk_create(loaded[kind], batch_size=2000)
        rollups.fold_into_rollups(loaded[kind], alerts=kind == "alerts")
    result.requests, result.alerts = len(loaded["requests"]), len(loaded["alerts"])
    rollups.refresh_summaries()
    return result


def _us(a, b):
    # date_part on an interval is float8 arithmetic, twice as fast as extract (numeric since PG 14);
    # rounding recovers the exact microseconds for any interval shorter than a century.
    return f"round(date_part('epoch', {b} - {a}) * 1000000)::bigint"


def _interval_sql(start, end, minus="0"):
    return (f"CASE WHEN {start} IS NULL THEN NULL WHEN {end} IS NULL THEN -1 "
            f"ELSE greatest(0, {_us(start, end)} - {minus}) END")


def _load_postgres_one(cursor, kind, label, handle):
    fields = REQUEST_FIELDS if kind == "requests" else ALERT_FIELDS
    header = _header(handle, label, fields)
    stage = f"slas_stage_{kind}"
    # ON COMMIT DROP clears it at the end; the DROP covers an enclosing transaction (tests, callers).
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(f"CREATE TEMP TABLE {stage} (line bigint GENERATED ALWAYS AS IDENTITY (START 2), "
                   + ", ".join(f"{c} text" for c in fields) + ") ON COMMIT DROP")
    with cursor.copy(f"COPY {stage} ({', '.join(header)}) FROM STDIN WITH (FORMAT csv)") as copy:
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    staged = cursor.rowcount
    key = "request_id" if kind == "requests" else "alert_id"
    table = RequestFact._meta.db_table if kind == "requests" else AlertFact._meta.db_table
    times = REQUEST_TIMES if kind == "requests" else ALERT_TIMES
    first = "start_at" if kind == "requests" else "raised_at"
    cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    before = cursor.fetchone()[0]
    # Fast path: one INSERT ... SELECT that parses the times (timestamptz input), resolves the
    # organisation by a join and drops rows failing the cheap checks. The unique index refuses
    # duplicates and reloads, a cast refuses a malformed time; when anything is refused or dropped
    # the savepoint is rolled back and the diagnostic checks below name every bad line.
    try:
        with transaction.atomic():
            # The planner cannot estimate the checks' selectivity on the staging text (it guesses a
            # few rows) and picked a nested loop over the organisations: 45 comparisons a row.
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute(_insert_sql(kind, stage, table, times, key, first))
            if cursor.rowcount != staged:
                raise _Refused
            count = cursor.rowcount
            cursor.execute("SET LOCAL enable_nestloop = on")
    except (DataError, IntegrityError, _Refused):
        return _diagnose(cursor, kind, label, stage, table, key, first, times), 0
    rollups.aggregate_sql(alerts=kind == "alerts", where="f.id > %s", where_params=[before])
    return [], count


class _Refused(Exception):
    """The fast path dropped a row: let the diagnostic checks say which and why."""


def _offset_ok(column):
    # The cast checks the format; this only insists on an explicit offset (timestamptz input would
    # otherwise read a bare local time in the session's zone). String functions, not a regex.
    return (f"({column} IS NULL OR ({column} LIKE '____-__-__%%' AND (strpos(substr({column}, 11), '+') > 0 "
            f"OR strpos(substr({column}, 11), '-') > 0 OR right({column}, 1) IN ('Z', 'z'))))")


def _insert_sql(kind, stage, table, times, key, first):
    valid = [f"coalesce(s.{key}, '') <> ''", f"coalesce(s.{first}, '') <> ''",
             "coalesce(s.region, '') IN ('', %s)" % ", ".join(f"'{r}'" for r in REGIONS),
             *(_offset_ok(f"s.{c}") for c in times)]
    if kind == "requests":
        valid += ["s.measurement_type IN (%s)" % ", ".join(f"'{t}'" for t in REQUEST_TYPES),
                  "length(coalesce(s.outcome, '')) <= 8"]
    where = " AND ".join(valid)
    # OFFSET 0 below keeps the typed subquery from being flattened: otherwise every reference to a
    # time in the interval expressions parses its text again (~30 parses a row instead of 7).
    typed = ", ".join(f"s.{c}::timestamptz AS {c}" for c in times)
    source = (f"(SELECT s.{key}, s.{'srv' if kind == 'requests' else 'alert_code'}, "
              + ("s.measurement_type, s.outcome, " if kind == "requests" else "")
              + f"s.device_id, s.region, o.id AS org_id, {typed} FROM {stage} s "
              f"JOIN portal_organisation o ON o.code = s.organisation WHERE {where} OFFSET 0) x0")
    # In key order: the unique key's btree then fills leaf after leaf instead of touching a random
    # leaf per row, which at 10M rows (an index beyond shared buffers) took the INSERT from 187 s to
    # 153 s (bench, full scale). Ordering by start time instead gained nothing (191 s).
    if kind == "requests":
        return (f"INSERT INTO {table} ({REQUEST_TARGET}) SELECT {_request_values()} FROM {source} "
                f"ORDER BY request_id")
    return f"INSERT INTO {table} ({ALERT_TARGET}) SELECT {_alert_values()} FROM {source} ORDER BY alert_id"


REQUEST_TARGET = ("request_id, srv, measurement_type, organisation_id, device_id, region, "
                  + ", ".join(REQUEST_TIMES) + ", outcome, measured, day, "
                  "dsp_outbound_us, csp_us, dsp_inbound_us, dsp_total_us, end_to_end_us")
ALERT_TARGET = ("alert_id, alert_code, organisation_id, device_id, region, " + ", ".join(ALERT_TIMES)
                + ", day, csp_us, dsp_us, end_to_end_us")


def _request_values(measured="TRUE"):
    """The SELECT list computing a request fact (slas.metrics' arithmetic in SQL) from columns
    request_id, srv, measurement_type, org_id, device_id, region, outcome and the typed times."""
    han = (f"CASE WHEN wan_delivered_at IS NOT NULL AND device_responded_at IS NOT NULL "
           f"THEN {_us('wan_delivered_at', 'device_responded_at')} ELSE 0 END")
    clock = "CASE WHEN received_at IS NULL THEN NULL ELSE greatest(received_at, start_at) END"
    return f"""request_id, coalesce(srv, ''), measurement_type, org_id, coalesce(device_id, ''),
        coalesce(region, ''), {", ".join(REQUEST_TIMES)}, coalesce(outcome, ''),
        {measured} AND NOT (coalesce(outcome, '') <> '' AND outcome NOT LIKE 'I%%' AND dsp_sent_at IS NULL
                            AND measurement_type <> 'dcc_only'),
        (start_at AT TIME ZONE 'Europe/London')::date,
        {_interval_sql(clock, 'dsp_sent_at')}, {_interval_sql('dsp_sent_at', 'wan_returned_at', han)},
        {_interval_sql('wan_returned_at', 'responded_at')}, {_interval_sql(clock, 'responded_at')},
        {_interval_sql('start_at', 'responded_at', han)}"""


def _alert_values():
    return f"""alert_id, coalesce(alert_code, ''), org_id, coalesce(device_id, ''), coalesce(region, ''),
        {", ".join(ALERT_TIMES)}, (raised_at AT TIME ZONE 'Europe/London')::date,
        {_interval_sql('raised_at', 'wan_received_at')}, {_interval_sql('wan_received_at', 'delivered_at')},
        {_interval_sql('raised_at', 'delivered_at')}"""


def _diagnose(cursor, kind, label, stage, table, key, first, times):
    """The slow path, only for a file the fast path refused: every check, each bad line named."""
    checks = [
        (f"coalesce({key}, '') = ''", f"'{key}: required'"),
        (f"coalesce({first}, '') = ''", f"'{first}: required'"),
        ("NOT EXISTS (SELECT 1 FROM portal_organisation o WHERE o.code = s.organisation)",
         "'organisation: no organisation with code ' || quote_literal(coalesce(organisation, ''))"),
        ("coalesce(region, '') NOT IN ('', %s)" % ", ".join(f"'{r}'" for r in REGIONS),
         "'region: ' || quote_literal(region) || ' is not one of north, central, south'"),
        (f"EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = s.{key})", f"s.{key} || ': already loaded'"),
        (f"EXISTS (SELECT 1 FROM {stage} d WHERE d.{key} = s.{key} AND d.line < s.line)",
         f"s.{key} || ': appears twice in the file'"),
    ]
    checks += [(f"{c} IS NOT NULL AND {c} !~ '{ISO_RE}'",
                f"'{c}: ' || quote_literal({c}) || ' is not an ISO 8601 time with an offset'") for c in times]
    if kind == "requests":
        checks.append(("coalesce(measurement_type, '') NOT IN (%s)" % ", ".join(f"'{t}'" for t in REQUEST_TYPES),
                       "'measurement_type: ' || quote_literal(coalesce(measurement_type, '')) || ' is unknown'"))
        checks.append(("length(coalesce(outcome, '')) > 8", "'outcome: longer than 8 characters'"))
    union = " UNION ALL ".join(f"SELECT line, {message} FROM {stage} s WHERE {cond}" for cond, message in checks)
    cursor.execute(f"SELECT * FROM ({union}) e ORDER BY 1 LIMIT {MAX_ERRORS}")
    errors = [(label, line, message) for line, message in cursor.fetchall()]
    if errors:
        return errors
    # Every check passed yet the fast path refused: a time matching the pattern is still not a time
    # (month 13, 25:00); find the first such line by casting row by row.
    for column in times:
        cursor.execute(f"SELECT line, {column} FROM {stage} WHERE {column} IS NOT NULL ORDER BY line")
        for line, text in cursor.fetchall():
            try:
                with transaction.atomic():
                    cursor.execute("SELECT %s::timestamptz", [text])
            except DataError as exc:
                return [(label, line, f"{column}: {text!r} could not be read as a time: {str(exc).splitlines()[0]}")]
    return [(label, 0, "the file could not be loaded")]


def load_files(*, requests=None, alerts=None):
    """Load fact files (paths); raises FactsRejected (nothing written) when any row is bad."""
    sources = []
    try:
        if requests:
            sources.append(("requests", "requests", open(requests, encoding="utf-8-sig", newline="")))
        if alerts:
            sources.append(("alerts", "alerts", open(alerts, encoding="utf-8-sig", newline="")))
        return load_streams(sources)
    finally:
        for _kind, _label, handle in sources:
            handle.close()


def load_streams(sources):
    """sources: [(kind "requests"/"alerts", label, text stream)]."""
    with transaction.atomic():
        if connection.vendor != "postgresql":
            codes = dict(Organisation.objects.values_list("code", "id"))
            return _load_python(sources, codes)
        result, errors = LoadResult(), []
        with connection.cursor() as cursor:
            rollups.bulk_settings(cursor)
            for kind, label, handle in sources:
                found, count = _load_postgres_one(cursor, kind, label, handle)
                errors += found
                setattr(result, kind, count)
        if errors:
            raise FactsRejected(errors)
        rollups.refresh_summaries()  # the report's groups, recomputed once per load, not per read
        return result


def load_text(*, requests="", alerts=""):
    """Convenience for tests and the demo: load CSV text."""
    sources = []
    if requests:
        sources.append(("requests", "requests", io.StringIO(requests)))
    if alerts:
        sources.append(("alerts", "alerts", io.StringIO(alerts)))
    return load_streams(sources)


# --- the fold of the adapter's records ----------------------------------------------------------

def _state(name):
    state, _ = FoldState.objects.select_for_update().get_or_create(name=name)
    return state


def fold_adapter(*, limit=20000):
    """Copy newly completed adapter requests and new alerts into facts and rollups, by watermark
    (completed_at / created_at, then pk for ties). Returns (requests, alerts) folded."""
    try:
        request_model = apps.get_model("adapter", "ServiceRequest")
        alert_model = apps.get_model("adapter", "Alert")
    except LookupError:
        return 0, 0  # the adapter is not installed yet: nothing to fold
    with transaction.atomic():
        folded_requests = _fold(request_model, "completed_at", "requests", limit)
        folded_alerts = _fold(alert_model, "created_at", "alerts", limit)
        if folded_requests or folded_alerts:
            rollups.refresh_summaries()
    return folded_requests, folded_alerts


def _fold(model, stamp, name, limit):
    state = _state(f"adapter {name}")
    if connection.vendor == "postgresql":
        return _fold_sql(model, stamp, name, limit, state)
    return _fold_python(model, stamp, name, limit, state)


def _window_sql(stamp, state):
    where, params = f"r.{stamp} IS NOT NULL", []
    if state.watermark:
        where += f" AND (r.{stamp} > %s OR (r.{stamp} = %s AND r.id > %s))"
        params += [state.watermark, state.watermark, state.last_pk]
    return where, params


def _fold_sql(model, stamp, name, limit, state):
    """PostgreSQL: the next window of adapter rows (by watermark) straight into facts by one
    INSERT ... SELECT (the arithmetic of the file loader), then its rollups in one more statement."""
    requests = name == "requests"
    table = model._meta.db_table
    where, params = _window_sql(stamp, state)
    device_table = model._meta.get_field("device").related_model._meta.db_table
    if requests:
        srv_table = model._meta.get_field("srv").related_model._meta.db_table
        mapping = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in ADAPTER_MEASUREMENT_TYPE.items())
        unmeasured = ", ".join(f"'{s}'" for s in sorted(UNMEASURED_STATES))
        source = f"""
          SELECT w.request_id, v.code AS srv, CASE w.measurement_type {mapping} END AS measurement_type,
                 w.organisation_id AS org_id, d.device_id, w.region, w.outcome, w.state,
                 {", ".join(f"w.{c}" for c in REQUEST_TIMES)}
          FROM w LEFT JOIN {srv_table} v ON v.id = w.srv_id LEFT JOIN {device_table} d ON d.id = w.device_id"""
        insert = f"""
          INSERT INTO {RequestFact._meta.db_table} ({REQUEST_TARGET})
          SELECT {_request_values(f"state NOT IN ({unmeasured})")}
          FROM ({source}) x0 WHERE measurement_type IS NOT NULL AND start_at IS NOT NULL"""
    else:
        source = f"""
          SELECT w.alert_id, w.alert_code, w.organisation_id AS org_id, d.device_id, w.region,
                 {", ".join(f"w.{c}" for c in ALERT_TIMES)}
          FROM w LEFT JOIN {device_table} d ON d.id = w.device_id"""
        insert = f"""
          INSERT INTO {AlertFact._meta.db_table} ({ALERT_TARGET})
          SELECT {_alert_values()} FROM ({source}) x0 WHERE raised_at IS NOT NULL"""
    key = "request_id" if requests else "alert_id"
    sql = f"""
    WITH w AS MATERIALIZED (
      SELECT r.* FROM {table} r WHERE {where} ORDER BY r.{stamp}, r.id LIMIT %s
    ),
    ins AS ({insert} ON CONFLICT ({key}) DO NOTHING RETURNING id)
    SELECT last.{stamp}, last.id, (SELECT array_agg(id) FROM ins)
    FROM (SELECT {stamp}, id FROM w ORDER BY {stamp} DESC, id DESC LIMIT 1) last
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        row = cursor.fetchone()
    if row is None:
        return 0
    state.watermark, state.last_pk, ids = row[0], row[1], row[2] or []
    if ids:
        rollups.aggregate_sql(alerts=not requests, where="f.id = ANY(%s)", where_params=[ids])
    state.save()
    return len(ids)


def _fold_python(model, stamp, name, limit, state):
    """Other databases (SQLite: tests, demo): the window as a values list (no model instances),
    the London day and intervals computed by slas.metrics, facts bulk-created."""
    from django.db.models import Q

    rows = model.objects.filter(**{f"{stamp}__isnull": False})
    if state.watermark:
        rows = rows.filter(Q(**{f"{stamp}__gt": state.watermark})
                           | Q(**{stamp: state.watermark, "pk__gt": state.last_pk}))
    requests = name == "requests"
    key = "request_id" if requests else "alert_id"
    fields = ["pk", stamp, key, "organisation_id", "device__device_id", "region"]
    fields += (["srv__code", "measurement_type", "state", "outcome", *REQUEST_TIMES] if requests
               else ["alert_code", *ALERT_TIMES])
    rows = list(rows.order_by(stamp, "pk").values(*fields)[:limit])
    if not rows:
        return 0
    model_out = RequestFact if requests else AlertFact
    known = set()
    ids = [row[key] for row in rows]
    for start in range(0, len(ids), 5000):
        known.update(model_out.objects.filter(**{f"{key}__in": ids[start:start + 5000]})
                     .values_list(key, flat=True))
    facts = []
    for row in rows:
        if row[key] in known:
            continue
        common = {"organisation_id": row["organisation_id"], "device_id": row["device__device_id"] or "",
                  "region": row["region"] or ""}
        if requests:
            mtype = ADAPTER_MEASUREMENT_TYPE.get(row["measurement_type"])
            if mtype is None or row["start_at"] is None:
                continue
            values = request_fact_values(measurement_type=mtype, outcome=row["outcome"] or "",
                                         **{c: row[c] for c in REQUEST_TIMES})
            if row["state"] in UNMEASURED_STATES:
                values["measured"] = False
            facts.append(RequestFact(request_id=row[key], srv=row["srv__code"] or "", **common, **values))
        else:
            if row["raised_at"] is None:
                continue
            facts.append(AlertFact(alert_id=row[key], alert_code=row["alert_code"] or "", **common,
                                   **alert_fact_values(**{c: row[c] for c in ALERT_TIMES})))
    _insert(model_out, facts)
    rollups.fold_into_rollups(facts, alerts=not requests)
    state.watermark = rows[-1][stamp]
    state.last_pk = rows[-1]["pk"]
    state.save()
    return len(facts)


def _insert(model, objects):
    """bulk_create, except on SQLite where it spent 2/3 of a fold preparing each value through the
    field machinery: executemany with each column's conversion chosen once (what Django's SQLite
    backend stores: naive UTC datetimes and dates as text)."""
    if connection.vendor != "sqlite":
        model.objects.bulk_create(objects, batch_size=2000)
        return
    from django.db import models

    def convert(field):
        if isinstance(field, models.DateTimeField):
            return lambda v: None if v is None else str(v.astimezone(dt.UTC).replace(tzinfo=None))
        if isinstance(field, models.DateField):
            return lambda v: None if v is None else str(v)
        return lambda v: v

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    conversions = [(f.attname, convert(f)) for f in fields]
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(f.column for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    rows = [[conv(getattr(obj, name)) for name, conv in conversions] for obj in objects]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start:start + 5000])

"""Loading facts: from files (slas_import_facts) and from the adapter's completed records (fold).

Files can hold tens of millions of rows, so they are streamed rather than read through
portal.tabular (which holds a whole table in memory for previews). On PostgreSQL the file goes
through COPY into a staging table, is checked there by SQL (every bad row reported by its line),
and is moved into the fact table and the rollups by INSERT ... SELECT, in one transaction. On
other databases (SQLite: tests, demo) rows are parsed in Python and bulk-created. Either way a
file with one bad row loads nothing.

Both paths read the same definitions: a row of a file is checked against one list of checks
(``CHECKS``, evaluated by ``_failures`` in Python and rendered by ``_check_sql`` as SQL), and a
fact is computed from its row by slas.metrics' table (``request_fact`` in Python, ``_fact_select``
as SQL). The fold reads the adapter's records through adapter.selectors, never its tables.
"""
import csv
import datetime as dt
import io
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, connection, models, transaction
from psycopg import sql

from adapter import selectors as adapter_selectors
from portal.choices import Region
from portal.models import Organisation
from slas import metrics, partitions, rollups
from slas.models import AlertFact, FoldState, RequestFact
from slas.sqltext import execute, names, table

REQUEST_FIELDS = ["request_id", "srv", "measurement_type", "organisation", "device_id", "region", "start_at",
                  "received_at", "dsp_sent_at", "wan_delivered_at", "device_responded_at", "wan_returned_at",
                  "responded_at", "outcome"]
ALERT_FIELDS = ["alert_id", "alert_code", "organisation", "device_id", "region", "raised_at", "wan_received_at",
                "delivered_at"]
REQUEST_TIMES = list(metrics.REQUEST_TIMES)
ALERT_TIMES = list(metrics.ALERT_TIMES)
REQUEST_TYPES = list(metrics.REQUEST_TYPES)
REGIONS = [r.value for r in Region]
MAX_ERRORS = 100
LOAD_MAINTENANCE_MEM = "256MB"  # per index build of a month's table (slas.partitions.build_indexes)


@dataclass
class LoadResult:
    requests: int = 0
    alerts: int = 0
    errors: list = field(default_factory=list)  # [(file label, line, message)]


class FactsRejected(Exception):
    def __init__(self, errors):
        super().__init__(f"{len(errors)} bad rows; nothing loaded")
        self.errors = errors


@dataclass(frozen=True)
class Kind:
    """One kind of fact: its file's columns, its key, the time its clock starts (required: the day
    it counts in), its timestamps, the text columns stored as '' when absent, and its model."""

    name: str
    fields: tuple[str, ...]
    key: str
    clock: str
    times: tuple[str, ...]
    blank: tuple[str, ...]
    model: type[models.Model]

    @property
    def requests(self) -> bool:
        return self.name == "requests"


REQUESTS = Kind("requests", tuple(REQUEST_FIELDS), "request_id", "start_at", metrics.REQUEST_TIMES,
                ("srv", "device_id", "region", "outcome"), RequestFact)
ALERTS = Kind("alerts", tuple(ALERT_FIELDS), "alert_id", "raised_at", metrics.ALERT_TIMES,
              ("alert_code", "device_id", "region"), AlertFact)
KINDS = {"requests": REQUESTS, "alerts": ALERTS}


# --- a row of a fact file: one list of checks ---------------------------------------------------
#
# Each check names the field it reads and says, by its rule, what is wrong; its message (a template
# whose {value} is the cell as PostgreSQL's quote_literal writes it) names the field, and the loader
# names the file and line. The Python path evaluates each check on each row (_failures); the
# PostgreSQL path renders each as a condition over the staging table (_check_sql): the fast INSERT
# filters rows by the checks marked FILTERED and leaves the others to the database (a join, the
# unique key, the column's length, the timestamptz cast), and only when it refuses a row does the
# diagnosis run every check and name every bad line.

REQUIRED, ONE_OF, MAX_LENGTH, TIME, ORGANISATION, NOT_LOADED, ONCE = (
    "required", "one of", "max length", "time", "organisation", "not loaded", "once")
# Rules the fast INSERT filters on; the database itself refuses the rest (see above).
FILTERED = {REQUIRED, ONE_OF, TIME}
OFFSET_LIKE = "____-__-__%"  # the date's shape; what follows must carry an offset


@dataclass(frozen=True)
class Check:
    field: str
    rule: str
    allowed: tuple[str, ...] = ()
    limit: int = 0

    @property
    def message(self) -> str:
        return {
            REQUIRED: "{field}: required",
            ONE_OF: "{field}: {value} is not one of " + ", ".join(a for a in self.allowed if a),
            MAX_LENGTH: f"{{field}}: longer than {self.limit} characters",
            TIME: "{field}: {value} is not an ISO 8601 time with an offset",
            ORGANISATION: "{field}: no organisation with code {value}",
            NOT_LOADED: "{field}: {value} is already loaded",
            ONCE: "{field}: {value} appears twice in the file",
        }[self.rule].replace("{field}", self.field)


def _checks(kind: Kind) -> list[Check]:
    def longest(name):
        return Check(name, MAX_LENGTH, limit=kind.model._meta.get_field(name).max_length)

    checks = [Check(kind.key, REQUIRED), Check(kind.clock, REQUIRED), Check("organisation", ORGANISATION),
              Check("region", ONE_OF, allowed=("", *REGIONS)), Check(kind.key, NOT_LOADED), Check(kind.key, ONCE),
              *(Check(c, TIME) for c in kind.times)]
    if kind.requests:
        checks.append(Check("measurement_type", ONE_OF, allowed=tuple(REQUEST_TYPES)))
    checks += [longest(c) for c in (kind.key, *kind.blank) if c != "region"]
    return checks


CHECKS = {name: _checks(kind) for name, kind in KINDS.items()}


def quoted(text: str) -> str:
    """A value as PostgreSQL's quote_literal writes it, so that both paths name a value alike."""
    body = text.replace("'", "''")
    if "\\" in text:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def has_offset(text: str) -> bool:
    """Shaped like an ISO 8601 time with an explicit offset (as _offset_sql); whether it is a time
    at all is for the parser (Python's fromisoformat, PostgreSQL's timestamptz input) to say."""
    return (len(text) >= 10 and text[4] == "-" and text[7] == "-"
            and ("+" in text[10:] or "-" in text[10:] or text[-1] in "Zz"))


def _offset_sql(column: sql.Composable) -> sql.Composable:
    # String functions, not a regular expression: a regex costs ~8 times as much a value, and a
    # file has seven times a row. The cast that follows checks the rest of the format.
    return sql.SQL("({c} LIKE {shape} AND (strpos(substr({c}, 11), '+') > 0 OR strpos(substr({c}, 11), '-') > 0 "
                   "OR right({c}, 1) IN ('Z', 'z')))").format(c=column, shape=sql.Literal(OFFSET_LIKE))


def _failures(row: Mapping[str, str], line: int, checks: list[Check], codes: Mapping[str, int],
              seen: dict[str, list[int]]) -> list[tuple[int, int, str]]:
    """(line, check position, message) of every check but NOT_LOADED this row fails; notes its key
    (seen: {key: its lines})."""
    found = []
    for position, check in enumerate(checks):
        value = row[check.field]
        if check.rule == REQUIRED:
            bad = value == ""
        elif check.rule == ONE_OF:
            bad = value not in check.allowed
        elif check.rule == MAX_LENGTH:
            bad = len(value) > check.limit
        elif check.rule == TIME:
            bad = value != "" and not has_offset(value)
        elif check.rule == ORGANISATION:
            bad = value not in codes
        elif check.rule == ONCE:
            bad = value != "" and value in seen
            if value != "":
                seen.setdefault(value, []).append(line)
        else:  # NOT_LOADED: looked up for the whole file at once (_loaded_failures)
            continue
        if bad:
            found.append((line, position, check.message.replace("{value}", quoted(value))))
    return found


def _loaded_failures(kind: Kind, checks: list[Check], seen: dict[str, list[int]],
                     replaced=()) -> list[tuple[int, int, str]]:
    position, check = next((n, c) for n, c in enumerate(checks) if c.rule == NOT_LOADED)
    found, ids = [], list(seen)
    facts = kind.model._default_manager.all()
    for month in replaced:  # their facts are being replaced: a key there is no reload
        facts = facts.exclude(day__gte=month, day__lt=metrics.next_month(month))
    for start in range(0, len(ids), 5000):
        for existing in facts.filter(**{f"{kind.key}__in": ids[start:start + 5000]}).values_list(
                kind.key, flat=True):
            message = check.message.replace("{value}", quoted(existing))
            found += [(line, position, message) for line in seen[existing]]
    return found


def _time_unreadable(column: str, text: str, reason: str) -> str:
    return f"{column}: {quoted(text)} could not be read as a time: {reason}"


def _check_sql(kind: Kind, check: Check, stage: sql.Identifier,
               loaded_outside: sql.Composable | None = None) -> tuple[sql.Composable, sql.Composable]:
    """(condition true for a bad row of ``stage`` s, its message) of one check; ``loaded_outside``
    (SQL over alias t) narrows NOT_LOADED to the facts a load does not replace."""
    c = sql.SQL("s.{}").format(sql.Identifier(check.field))
    cell = sql.SQL("coalesce({}, '')").format(c)
    if check.rule == REQUIRED:
        bad = sql.SQL("{} = ''").format(cell)
    elif check.rule == ONE_OF:
        bad = sql.SQL("{} NOT IN ({})").format(cell, sql.SQL(", ").join(map(sql.Literal, check.allowed)))
    elif check.rule == MAX_LENGTH:
        bad = sql.SQL("length({}) > {}").format(cell, sql.Literal(check.limit))
    elif check.rule == TIME:
        bad = sql.SQL("({c} IS NOT NULL AND NOT {ok})").format(c=c, ok=_offset_sql(c))
    elif check.rule == ORGANISATION:
        bad = sql.SQL("NOT EXISTS (SELECT 1 FROM {} o WHERE o.code = {})").format(table(Organisation), c)
    elif check.rule == NOT_LOADED:
        bad = sql.SQL("EXISTS (SELECT 1 FROM {} t WHERE t.{k} = {c} AND {outside})").format(
            table(kind.model), k=sql.Identifier(kind.key), c=c, outside=loaded_outside or sql.SQL("TRUE"))
    else:  # ONCE
        bad = sql.SQL("EXISTS (SELECT 1 FROM {} d WHERE d.{k} = {c} AND d.line < s.line)").format(
            stage, k=sql.Identifier(kind.key), c=c)
    before, value, after = check.message.partition("{value}")
    message: sql.Composable = sql.Literal(before)
    if value:
        message = sql.SQL("{} || quote_literal({}) || {}").format(message, cell, sql.Literal(after))
    return bad, message


def _fast_filter(kind: Kind, stage: sql.Identifier) -> sql.Composable:
    return sql.SQL(" AND ").join(sql.SQL("NOT ({})").format(_check_sql(kind, check, stage)[0])
                                 for check in CHECKS[kind.name] if check.rule in FILTERED)


# --- a fact from its row ------------------------------------------------------------------------
# A fact row has the fact's own column names (organisation_id resolved; times aware datetimes or
# None; from the adapter also its state). The file loader and the fold build rows their own way
# and hand them to these.

def request_fact(row: Mapping) -> RequestFact:
    return RequestFact(request_id=row["request_id"], measurement_type=row["measurement_type"],
                       organisation_id=row["organisation_id"], **{c: row[c] or "" for c in REQUESTS.blank},
                       **{c: row[c] for c in REQUESTS.times}, **metrics.request_measures(row))


def alert_fact(row: Mapping) -> AlertFact:
    return AlertFact(alert_id=row["alert_id"], organisation_id=row["organisation_id"],
                     **{c: row[c] or "" for c in ALERTS.blank}, **{c: row[c] for c in ALERTS.times},
                     **metrics.alert_measures(row))


def _fact_select(kind: Kind, *, state: str | None = None) -> tuple[sql.Composable, sql.Composable]:
    """request_fact / alert_fact as SQL: (the fact table's columns, the SELECT list computing them
    from a source whose columns are named as a fact row's)."""
    copied = [kind.key, *(["measurement_type"] if kind.requests else []), "organisation_id", *kind.times]
    values = [*((c, sql.Identifier(c)) for c in copied),
              *((c, sql.SQL("coalesce({}, '')").format(sql.Identifier(c))) for c in kind.blank),
              *(metrics.request_measures_sql(state=state) if kind.requests else metrics.alert_measures_sql())]
    return names(c for c, _ in values), sql.SQL(", ").join(v for _, v in values)


# --- files --------------------------------------------------------------------------------------

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


def _parse_time(text: str) -> tuple[dt.datetime | None, str | None]:
    """(time, None) or (None, why it is not one); '' is no time."""
    if not text:
        return None, None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        return None, str(exc)
    if value.tzinfo is None:
        return None, "no offset"
    return value, None


def _python_rows(handle, header, label, kind: Kind, codes, errors, seen):
    """Facts of the file's good rows; every failure appended to errors as (line, position, message).
    Cells are read as COPY reads them: not trimmed, empty meaning absent."""
    checks = CHECKS[kind.name]
    parse_position = len(checks)
    for line, values in enumerate(csv.reader(handle), start=2):
        if not any(values):
            continue
        if len(values) != len(header):
            errors.append((line, -1, f"{len(values)} cells where the header has {len(header)}"))
            continue
        row = dict(zip(header, values, strict=True))
        failed = _failures(row, line, checks, codes, seen)
        times = {}
        for column in kind.times:
            times[column], why = _parse_time(row[column]) if has_offset(row[column]) else (None, None)
            if why is not None:
                failed.append((line, parse_position, _time_unreadable(column, row[column], why)))
        if failed:
            errors += failed
            if len(errors) >= MAX_ERRORS:
                return
            continue
        fact_row = {**row, **times, "organisation_id": codes[row["organisation"]]}
        yield request_fact(fact_row) if kind.requests else alert_fact(fact_row)


def _load_python(sources, codes, *, replace=False):
    result, errors = LoadResult(), []
    loaded: dict[str, list] = {"requests": [], "alerts": []}
    replaced: dict[str, list[dt.date]] = {"requests": [], "alerts": []}
    for name, label, handle in sources:
        kind = KINDS[name]
        header = _header(handle, label, kind.fields)
        seen, found = {}, []
        loaded[name] = list(_python_rows(handle, header, label, kind, codes, found, seen))
        if replace:
            replaced[name] = sorted({metrics.month_start(fact.day) for fact in loaded[name]})
        found += _loaded_failures(kind, CHECKS[name], seen, replaced[name])
        # As the diagnosis orders and cuts them: by line, then in the order of the checks, per file.
        errors += [(label, line, message) for line, _, message in sorted(found)[:MAX_ERRORS]]
    if errors:
        raise FactsRejected(errors)
    for kind in (REQUESTS, ALERTS):
        for month in replaced[kind.name]:
            kind.model._default_manager.filter(day__gte=month, day__lt=metrics.next_month(month)).delete()
        rollups.clear_months(replaced[kind.name], alerts=not kind.requests)
        kind.model._default_manager.bulk_create(loaded[kind.name], batch_size=2000)
        rollups.fold_into_rollups(loaded[kind.name], alerts=not kind.requests)
    result.requests, result.alerts = len(loaded["requests"]), len(loaded["alerts"])
    rollups.refresh_summaries()
    return result


def _load_postgres_one(cursor, name, label, handle, *, replace=False):
    """One file on PostgreSQL: COPY as text into a staging table; then, for each London month it
    holds, a fresh table of the partition's shape without indexes filled by one INSERT ... SELECT
    (the checks; the times parsed; the facts computed), the rollups from it in one pass, its
    indexes built after, and ATTACH as the month's partition (replacing the month's old one when
    ``replace``). A month already holding facts, without ``replace``, has the file's facts added
    to it instead (the rows already typed and checked, the unique key refusing a reload)."""
    kind = KINDS[name]
    header = _header(handle, label, kind.fields)
    stage = sql.Identifier(f"slas_stage_{name}")
    # ON COMMIT DROP clears it at the end; the DROP covers an enclosing transaction (tests, callers).
    execute(cursor, sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
    # No line column: numbering each row as it arrives (an identity: a sequence call a row) cost
    # a fifth of the COPY; the rows lie in the table in the file's order, so the diagnosis, which
    # alone needs lines, numbers them then (_numbered).
    execute(cursor, sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
        stage, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in kind.fields)))
    # FORCE_NULL: an empty cell is absent whether quoted or not, as the Python path reads it.
    # FREEZE (the table was made by this transaction, so no one else can see it): its rows are
    # written visible to all, so the scans after it skip a visibility check a row against this
    # transaction's own writes.
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, FORCE_NULL ({}), FREEZE)").format(
        stage, names(header), names(header))
    with cursor.copy(copy) as stream:
        while chunk := handle.read(1 << 20):
            stream.write(chunk)
    staged = cursor.rowcount
    parent = kind.model._meta.db_table
    partitions.lock(cursor, parent)
    load = _Load(parent, _candidate_months(cursor, kind, stage))
    load.create(cursor)
    # Fast path: one INSERT ... SELECT that parses the times (timestamptz input), resolves the
    # organisation by a join and drops rows failing the filtered checks, routed into the month
    # tables. A cast refuses a malformed time, a column its over-long text; when anything is
    # refused or dropped the savepoint is rolled back and the diagnosis names every bad line.
    try:
        with transaction.atomic():
            # The planner cannot estimate the checks' selectivity on the staging text (it guesses a
            # few rows) and picked a nested loop over the organisations: 45 comparisons a row.
            cursor.execute("SET LOCAL enable_nestloop = off")
            execute(cursor, _insert_sql(kind, stage, sql.Identifier(load.name)))
            if cursor.rowcount != staged:
                raise _Refused
            count = cursor.rowcount
            cursor.execute("SET LOCAL enable_nestloop = on")
    except (DataError, IntegrityError, _Refused):
        return _diagnose(cursor, kind, label, stage), 0
    load.keep_filled(cursor)
    if not load.months:
        return [], count
    # A key twice in the file (on any days), or already loaded in a month this load does not replace.
    once, elsewhere = _key_conflicts(cursor, kind, load, stage)
    if once or elsewhere:
        return _diagnose(cursor, kind, label, stage, replaced=load.months if replace else ()), 0
    held = [m for m in load.months if _month_holds_facts(cursor, parent, m)]
    if held and not replace:
        try:
            with transaction.atomic():
                partitions.ensure_months(parent, load.months)
                execute(cursor, sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                    sql.Identifier(parent), sql.Identifier(load.name)))
        except IntegrityError:
            return _diagnose(cursor, kind, label, stage), 0
        rollups.aggregate_sql(alerts=not kind.requests, where=sql.SQL("TRUE"), where_params=[],
                              source=sql.Identifier(load.name))
        load.drop(cursor)
        return [], count
    for table_name in load.tables.values():
        partitions.build_indexes(cursor, parent, table_name)
    if replace:
        rollups.clear_months(load.months, alerts=not kind.requests)
    rollups.aggregate_sql(alerts=not kind.requests, where=sql.SQL("TRUE"), where_params=[],
                          source=sql.Identifier(load.name))
    load.attach(cursor)
    return [], count


class _Load:
    """The tables of one file's load: a routing parent (``<table>_load``) partitioned like the
    fact table, and under it a standalone table per candidate month (``<table>_YYYY_MM_new``,
    slas.partitions.standalone). After the INSERT the empty ones go; the others are detached from
    the routing parent and attached to the fact table."""

    def __init__(self, parent: str, months: list[dt.date]):
        self.parent, self.name = parent, f"{parent}_load"
        self.tables = {m: f"{partitions.partition_name(parent, m)}_new" for m in months}

    @property
    def months(self) -> list[dt.date]:
        return list(self.tables)

    def create(self, cursor):
        load = sql.Identifier(self.name)
        execute(cursor, sql.SQL("DROP TABLE IF EXISTS {}").format(load))
        execute(cursor, sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS) PARTITION BY RANGE (day)").format(
            load, sql.Identifier(self.parent)))
        partitions.take_ids(cursor, self.parent, self.name)
        for month, name in self.tables.items():
            partitions.standalone(cursor, self.parent, name, month)
            execute(cursor, sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
                load, sql.Identifier(name), sql.Literal(month), sql.Literal(metrics.next_month(month))))

    def keep_filled(self, cursor):
        for month, name in list(self.tables.items()):
            execute(cursor, sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(name)))
            if not cursor.fetchone()[0]:
                execute(cursor, sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
                del self.tables[month]

    def attach(self, cursor):
        for month, name in self.tables.items():
            execute(cursor, sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                sql.Identifier(self.name), sql.Identifier(name)))
            partitions.swap(cursor, self.parent, name, month)
        self.drop(cursor)

    def drop(self, cursor):
        execute(cursor, sql.SQL("DROP TABLE {}").format(sql.Identifier(self.name)))


def _candidate_months(cursor, kind: Kind, stage: sql.Identifier) -> list[dt.date]:
    """The London months a file's rows may count in: the month each clock's text names, and the
    months either side (an offset moves a time near midnight of the month's ends across it)."""
    clock = sql.Identifier(kind.clock)
    execute(cursor, sql.SQL("SELECT DISTINCT left({c}, 7) FROM {s} WHERE {c} LIKE {shape}").format(
        c=clock, s=stage, shape=sql.Literal("____-__-%")))
    months: set[dt.date] = set()
    for (text,) in cursor.fetchall():
        try:
            month = dt.date(int(text[:4]), int(text[5:7]), 1)
        except ValueError:
            continue  # not a month: the INSERT's cast refuses the row and the diagnosis names it
        if dt.MINYEAR < month.year < dt.MAXYEAR:
            months |= {metrics.previous_month(month), month, metrics.next_month(month)}
    return sorted(months)


def _key_conflicts(cursor, kind: Kind, load: "_Load", stage: sql.Identifier) -> tuple[bool, bool]:
    """(a key appears twice in the loaded rows, a key is already loaded in a month not replaced):
    one pass over the rows each; the months replaced (or, when nothing is, the months the load
    fills, which hold no facts) are left out of the second. The first reads the staged rows (every
    one of them was loaded): written frozen, they are cheaper to scan than the month's new rows."""
    key, loaded = sql.Identifier(kind.key), sql.Identifier(load.name)
    execute(cursor, sql.SQL("SELECT EXISTS (SELECT 1 FROM {} GROUP BY {} HAVING count(*) > 1)").format(stage, key))
    once = cursor.fetchone()[0]
    outside = _outside(load.months)
    execute(cursor, sql.SQL("SELECT EXISTS (SELECT 1 FROM {} t WHERE {})").format(
        sql.Identifier(load.parent), outside))
    if not cursor.fetchone()[0]:
        return once, False
    execute(cursor, sql.SQL("SELECT EXISTS (SELECT 1 FROM {n} n WHERE EXISTS ("
                            "SELECT 1 FROM {f} t WHERE t.{k} = n.{k} AND {outside}))").format(
        n=loaded, f=sql.Identifier(load.parent), k=key, outside=outside))
    return once, cursor.fetchone()[0]


def _outside(months) -> sql.Composable:
    """SQL over alias t: its day in none of ``months`` (as ranges the planner prunes partitions by)."""
    if not months:
        return sql.SQL("TRUE")
    return sql.SQL(" AND ").join(sql.SQL("(t.day < {} OR t.day >= {})").format(
        sql.Literal(m), sql.Literal(metrics.next_month(m))) for m in months)


def _month_holds_facts(cursor, table: str, month: dt.date) -> bool:
    execute(cursor, sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE day >= {} AND day < {})").format(
        sql.Identifier(table), sql.Literal(month), sql.Literal(metrics.next_month(month))))
    return cursor.fetchone()[0]


class _Refused(Exception):
    """The fast path dropped a row: let the diagnosis say which and why."""


def _insert_sql(kind: Kind, stage: sql.Identifier, target: sql.Identifier) -> sql.Composable:
    # OFFSET 0 below keeps the typed subquery from being flattened: otherwise every reference to a
    # time in the interval expressions parses its text again (~30 parses a row instead of 7).
    copied = [kind.key, *(["measurement_type"] if kind.requests else []), *kind.blank]
    source = sql.SQL("(SELECT {copied}, o.id AS organisation_id, {typed} FROM {stage} s "
                     "JOIN {orgs} o ON o.code = s.organisation WHERE {valid} OFFSET 0) x0").format(
        copied=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in copied),
        typed=sql.SQL(", ").join(sql.SQL("s.{c}::timestamptz AS {c}").format(c=sql.Identifier(c)) for c in kind.times),
        stage=stage, orgs=table(Organisation), valid=_fast_filter(kind, stage))
    columns, values = _fact_select(kind)
    # No ORDER BY: the month tables have no index while they fill (each is built after, by one
    # sort), so the order of the rows no longer matters to the key's btree.
    return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(target, columns, values, source)


def _numbered(cursor, kind: Kind, stage: sql.Identifier) -> sql.Identifier:
    """The staged rows with their lines in the file (the header is line 1): COPY wrote them to
    the fresh table one after the other, so their physical order is the file's."""
    numbered = sql.Identifier(f"slas_stage_{kind.name}_lines")
    execute(cursor, sql.SQL("DROP TABLE IF EXISTS {}").format(numbered))
    execute(cursor, sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS "
                            "SELECT row_number() OVER (ORDER BY ctid) + 1 AS line, * FROM {}").format(numbered, stage))
    return numbered


def _diagnose(cursor, kind: Kind, label, stage: sql.Identifier, replaced=()):
    """The slow path, only for a file the fast path refused: every check, each bad line named
    (a key loaded before counts only outside the months ``replaced``)."""
    stage = _numbered(cursor, kind, stage)
    outside = _outside(replaced)
    union = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT line, {position} AS position, {message} FROM {stage} s WHERE {bad}").format(
            position=sql.Literal(position), message=message, stage=stage, bad=bad)
        for position, (bad, message) in enumerate(_check_sql(kind, check, stage, outside)
                                                  for check in CHECKS[kind.name]))
    execute(cursor, sql.SQL("SELECT line, message FROM ({}) e(line, position, message) ORDER BY line, position "
                            "LIMIT {}").format(union, sql.Literal(MAX_ERRORS)))
    errors = [(label, line, message) for line, message in cursor.fetchall()]
    if errors:
        return errors
    # Every check passed yet the fast path refused: a time of the right shape is still not a time
    # (month 13, 25:00); find the first such line by casting row by row.
    for column in kind.times:
        execute(cursor, sql.SQL("SELECT line, {c} FROM {stage} WHERE {c} IS NOT NULL ORDER BY line").format(
            c=sql.Identifier(column), stage=stage))
        for line, text in cursor.fetchall():
            try:
                with transaction.atomic():
                    cursor.execute("SELECT %s::timestamptz", [text])
            except DataError as exc:
                return [(label, line, _time_unreadable(column, text, str(exc).splitlines()[0]))]
    return [(label, 0, "the file could not be loaded")]


def load_files(*, requests=None, alerts=None, replace=False):
    """Load fact files (paths); raises FactsRejected (nothing written) when any row is bad.
    ``replace``: the months the files hold are replaced by them (their facts and fact rollups)."""
    sources = []
    try:
        if requests:
            sources.append(("requests", "requests", open(requests, encoding="utf-8-sig", newline="")))
        if alerts:
            sources.append(("alerts", "alerts", open(alerts, encoding="utf-8-sig", newline="")))
        return load_streams(sources, replace=replace)
    finally:
        for _kind, _label, handle in sources:
            handle.close()


def load_streams(sources, *, replace=False):
    """sources: [(kind "requests"/"alerts", label, text stream)]. One transaction: a reader sees
    the months as they were or as loaded, never part of a file."""
    with transaction.atomic():
        if connection.vendor != "postgresql":
            codes = dict(Organisation.objects.values_list("code", "id"))
            return _load_python(sources, codes, replace=replace)
        result, errors = LoadResult(), []
        with connection.cursor() as cursor:
            rollups.bulk_settings(cursor)
            # The month tables' indexes are built by one sort each: room for the sort in memory.
            # A load is repeatable from its files, so its COMMIT need not wait for the WAL flush.
            execute(cursor, sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(LOAD_MAINTENANCE_MEM)))
            cursor.execute("SET LOCAL synchronous_commit = off")
            for kind, label, handle in sources:
                found, count = _load_postgres_one(cursor, kind, label, handle, replace=replace)
                errors += found
                setattr(result, kind, count)
        if errors:
            raise FactsRejected(errors)
        rollups.refresh_summaries()  # the report's groups, recomputed once per load, not per read
        return result


def load_text(*, requests="", alerts="", replace=False):
    """Convenience for tests and the demo: load CSV text."""
    sources = []
    if requests:
        sources.append(("requests", "requests", io.StringIO(requests)))
    if alerts:
        sources.append(("alerts", "alerts", io.StringIO(alerts)))
    return load_streams(sources, replace=replace)


# --- the fold of the adapter's records ----------------------------------------------------------

@dataclass(frozen=True)
class Feed:
    """What the fold reads for one kind: the adapter selector, its watermark column, the fact
    row's columns taken from the selector's columns ({fact row column: selector column}), and the
    selector saying how far behind a watermark is (for the dashboard's lag tile)."""

    kind: Kind
    select: Callable
    selected: tuple[str, ...]
    stamp: str
    renamed: dict[str, str]
    backlog: Callable

    @property
    def state_name(self) -> str:
        return f"adapter {self.kind.name}"


FEEDS = (
    Feed(REQUESTS, adapter_selectors.completed_requests_since, adapter_selectors.COMPLETED_REQUEST_COLUMNS,
         "completed_at", {"srv": "srv_code", "device_id": "device_eui"}, adapter_selectors.completed_requests_backlog),
    Feed(ALERTS, adapter_selectors.alerts_since, adapter_selectors.ALERT_COLUMNS, "created_at",
         {"device_id": "device_eui"}, adapter_selectors.alerts_backlog),
)


def _state(name):
    state, _ = FoldState.objects.select_for_update().get_or_create(name=name)
    return state


def fold_adapter(*, limit=20000):
    """Copy newly completed adapter requests and new alerts into facts and rollups, by watermark
    (completed_at / created_at, then pk for ties). Returns (requests, alerts) folded."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A batch's window (CTE w) and its rollup rows (CTE y, ~4 a request) spilled to temp
            # files at the default 4 MB; the loader's setting keeps them in memory.
            with connection.cursor() as cursor:
                rollups.bulk_settings(cursor)
        folded = [_fold(feed, limit) for feed in FEEDS]
        if any(folded):
            rollups.refresh_summaries()
    return tuple(folded)


FOLD_BUDGET_S = 50.0  # the schedule runs every minute; one run stops before the next is due


def fold_backlog(*, limit=20000, budget_s=FOLD_BUDGET_S) -> tuple[int, int]:
    """fold_adapter, batch after batch (each committed), until a batch folds nothing or
    ``budget_s`` has passed: what the schedule runs, so that a backlog is worked off at the
    fold's own rate rather than one batch a minute. Returns (requests, alerts) folded."""
    deadline = time.monotonic() + budget_s
    requests = alerts = 0
    while True:
        got = fold_adapter(limit=limit)
        requests, alerts = requests + got[0], alerts + got[1]
        if not any(got) or time.monotonic() >= deadline:
            return requests, alerts


def _fold(feed: Feed, limit: int) -> int:
    state = _state(feed.state_name)
    rows = feed.select((state.watermark, state.last_pk) if state.watermark else None, limit=limit)
    if connection.vendor == "postgresql":
        return _fold_sql(feed, rows, state)
    return _fold_python(feed, rows, state)


def _fold_sql(feed: Feed, rows, state) -> int:
    """PostgreSQL: the selector's window compiled to SQL and read by one INSERT ... SELECT (the
    arithmetic of the file loader), then its rollups in one more statement."""
    kind = feed.kind
    window, params = rows.query.sql_with_params()
    # The selector's columns, renamed by position to the names it documents.
    w = sql.SQL("w AS MATERIALIZED (SELECT * FROM ({}) sel({}))").format(sql.SQL(window), names(feed.selected))
    taken: list[sql.Composable] = [
        sql.SQL("w.{} AS {}").format(sql.Identifier(feed.renamed.get(c, c)), sql.Identifier(c))
        for c in (kind.key, *kind.blank, "organisation_id", *kind.times)]
    if kind.requests:
        taken += [sql.SQL("{} AS measurement_type").format(metrics.adapter_type_sql(sql.SQL("w.measurement_type"))),
                  sql.SQL("w.state")]
    keep = sql.SQL("measurement_type IS NOT NULL AND start_at IS NOT NULL" if kind.requests
                   else "raised_at IS NOT NULL")
    columns, values = _fact_select(kind, state="state" if kind.requests else None)
    query = sql.SQL("""
    WITH {w},
    ins AS (
      INSERT INTO {facts} ({columns}) SELECT {values} FROM (SELECT {taken} FROM w) x0 WHERE {keep}
      ON CONFLICT ({key}, day) DO NOTHING RETURNING id, day
    )
    SELECT last.{stamp}, last.pk, n.count, n.low, n.high, CASE WHEN n.high - n.low + 1 > n.count
                                                              THEN (SELECT array_agg(id) FROM ins) END,
           (SELECT array_agg(DISTINCT date_trunc('month', day)::date) FROM ins)
    FROM (SELECT {stamp}, pk FROM w ORDER BY {stamp} DESC, pk DESC LIMIT 1) last,
         (SELECT count(*) AS count, min(id) AS low, max(id) AS high FROM ins) n
    """).format(w=w, facts=table(kind.model), columns=columns, values=values, taken=sql.SQL(", ").join(taken),
                keep=keep, key=sql.Identifier(kind.key), stamp=sql.Identifier(feed.stamp))
    with connection.cursor() as cursor:
        execute(cursor, query, list(params))
        row = cursor.fetchone()
    if row is None:
        return 0
    state.watermark, state.last_pk, count, low, high, ids, months = row
    # A month without its partition yet (the schedule makes them ahead): its facts went to the
    # DEFAULT partition; making the partition now moves them there.
    partitions.ensure_months(kind.model._meta.db_table, months or [])
    if count and ids is None:
        # The batch's ids fill low..high (nothing else took one in between): the rollups read
        # them as a range of the primary key, not as 20,000 lookups of a literal array.
        rollups.aggregate_sql(alerts=not kind.requests, where=sql.SQL("f.id BETWEEN %s AND %s"),
                              where_params=[low, high])
    elif count:
        rollups.aggregate_sql(alerts=not kind.requests, where=sql.SQL("f.id = ANY(%s)"), where_params=[ids])
    state.save()
    return count


def _fold_python(feed: Feed, rows, state) -> int:
    """Other databases (SQLite: tests, demo): the selector's window as dicts, the London day and
    intervals computed by slas.metrics (request_fact / alert_fact), facts inserted in bulk."""
    kind = feed.kind
    rows = list(rows)
    if not rows:
        return 0
    known: set[str] = set()
    ids = [row[kind.key] for row in rows]
    for start in range(0, len(ids), 5000):
        known.update(kind.model._default_manager.filter(**{f"{kind.key}__in": ids[start:start + 5000]})
                     .values_list(kind.key, flat=True))
    facts: list[models.Model] = []
    for row in rows:
        fact_row = {c: row[feed.renamed.get(c, c)] for c in (kind.key, *kind.blank, "organisation_id", *kind.times)}
        if row[kind.key] in known or fact_row[kind.clock] is None:
            continue
        if kind.requests:
            fact_row["measurement_type"] = metrics.ADAPTER_MEASUREMENT_TYPE.get(row["measurement_type"])
            if fact_row["measurement_type"] is None:
                continue
            fact_row["state"] = row["state"]
            facts.append(request_fact(fact_row))
        else:
            facts.append(alert_fact(fact_row))
    _insert(kind.model, facts)
    rollups.fold_into_rollups(facts, alerts=not kind.requests)
    state.watermark = rows[-1][feed.stamp]
    state.last_pk = rows[-1]["pk"]
    state.save()
    return len(facts)


def _insert(model, objects: Iterable):
    """bulk_create, except on SQLite where it spent 2/3 of a fold preparing each value through the
    field machinery: executemany with each column's conversion chosen once (what Django's SQLite
    backend stores: naive UTC datetimes and dates as text)."""
    if connection.vendor != "sqlite":
        model.objects.bulk_create(objects, batch_size=2000)
        return

    def convert(field):
        if isinstance(field, models.DateTimeField):
            return lambda v: None if v is None else str(v.astimezone(dt.UTC).replace(tzinfo=None))
        if isinstance(field, models.DateField):
            return lambda v: None if v is None else str(v)
        return lambda v: v

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    conversions = [(f.attname, convert(f)) for f in fields]
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        table(model), names(f.column for f in fields), sql.SQL(", ").join(sql.Placeholder() * len(fields)))
    rows = [[conv(getattr(obj, name)) for name, conv in conversions] for obj in objects]
    with connection.cursor() as cursor:
        statement = query.as_string()
        for start in range(0, len(rows), 5000):
            cursor.executemany(statement, rows[start:start + 5000])

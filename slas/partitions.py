"""Facts by month: RequestFact and AlertFact as PostgreSQL tables partitioned by London month.

Each fact table is a parent ``PARTITION BY RANGE (day)`` (day is the London date a fact counts in,
so a partition is exactly a report month) with one partition per month named
``<table>_YYYY_MM`` and a DEFAULT partition ``<table>_default``. The writers (the file loader and
the fold) and a daily schedule (this month and the next ``AHEAD``) create month partitions before
they are needed, so the DEFAULT partition stays empty in operation; it is there so that any other
writer (the ORM in tests and the demo, a fact dated years ahead) never fails on a missing month,
and ``ensure`` moves what it holds into the month's partition when that is created. A DEFAULT
partition costs a scan of itself whenever a month is attached: nothing, while it is empty.

The keys the parent enforces include the partition key, as PostgreSQL requires: the primary key
is (id, day) and a fact's key is unique per (key, day); the loader checks a key against the other
months itself (slas.facts). SQLite (tests, the demo) keeps plain tables; everything here is a
no-op there. DDL is composed with psycopg.sql (slas.sqltext).
"""
import datetime as dt
import re
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from psycopg import sql

from slas import metrics
from slas.sqltext import execute, names

AHEAD = 2  # months created ahead by the schedule, beyond the current one


@dataclass(frozen=True)
class Shape:
    """A partitioned fact table: its name, its key, and the indexes every partition carries
    (name on the parent, method, columns); the primary key is (id, day)."""

    table: str
    key: str
    unique: str
    btree: tuple[str, str]
    brin: tuple[str, str]


SHAPES = {
    "slas_requestfact": Shape("slas_requestfact", "request_id", "slas_reqfact_request_id",
                              ("slas_reqfact_start_at", "start_at"), ("slas_reqfact_day", "day")),
    "slas_alertfact": Shape("slas_alertfact", "alert_id", "slas_alertfact_alert_id",
                            ("slas_alertfact_raised_at", "raised_at"), ("slas_alertfact_day", "day")),
}
NAME = re.compile(r"_(\d{4})_(\d{2})$")


def enabled() -> bool:
    return connection.vendor == "postgresql"


def shape(model) -> Shape:
    return SHAPES[model._meta.db_table]


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_{month:%Y_%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _bounds(month: dt.date) -> tuple[sql.Literal, sql.Literal]:
    return sql.Literal(month), sql.Literal(metrics.next_month(month))


def months(table: str) -> dict[dt.date, str]:
    """{month: partition} of the month partitions attached to ``table`` (not the DEFAULT)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = %s::regclass", [table])
        found = {}
        for (name,) in cursor.fetchall():
            if match := NAME.search(name):
                found[dt.date(int(match[1]), int(match[2]), 1)] = name
    return dict(sorted(found.items()))


def exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def lock(cursor, table: str):
    """Serialise partition changes of one parent (creation, loads, archives) for this transaction."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"slas partitions {table}"])


def ensure(table: str, month: dt.date) -> bool:
    """Create the month's partition unless it exists (True when created). Rows of that month that
    reached the DEFAULT partition move into it. Idempotent; PostgreSQL only."""
    month = metrics.month_start(month)
    name = partition_name(table, month)
    if exists(name):
        return False
    parent, part, default = sql.Identifier(table), sql.Identifier(name), sql.Identifier(default_name(table))
    low, high = _bounds(month)
    with connection.cursor() as cursor:
        lock(cursor, table)
        if exists(name):  # made by another process while this one waited for the lock
            return False
        cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE day >= {} AND day < {})").format(
            default, low, high).as_string(cursor.connection))
        if not cursor.fetchone()[0]:
            execute(cursor, sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                part, parent, low, high))
            return True
        # PostgreSQL refuses a partition whose rows sit in the DEFAULT partition: take them out first.
        execute(cursor, sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(part, parent))
        execute(cursor, sql.SQL("WITH moved AS (DELETE FROM {d} WHERE day >= {lo} AND day < {hi} RETURNING *) "
                                "INSERT INTO {p} SELECT * FROM moved").format(d=default, p=part, lo=low, hi=high))
        execute(cursor, sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
            parent, part, low, high))
    return True


def ensure_months(table: str, wanted) -> list[dt.date]:
    """ensure() each month of ``wanted``; the months created."""
    if not enabled():
        return []
    return [m for m in sorted({metrics.month_start(m) for m in wanted}) if ensure(table, m)]


def ahead(*, today: dt.date | None = None, count: int = AHEAD) -> list[str]:
    """This London month and the next ``count`` for every fact table (the schedule's task)."""
    month = metrics.month_start(today or timezone.localdate())
    wanted = [month]
    for _ in range(count):
        wanted.append(metrics.next_month(wanted[-1]))
    return [partition_name(t, m) for t in SHAPES for m in ensure_months(t, wanted)]


# --- a month's table built beside the parent (the loader) ----------------------------------------

def standalone(cursor, table: str, name: str, month: dt.date):
    """A table of the partition's shape, no index, holding only ``month`` (its CHECK lets ATTACH
    skip the scan that proves it) and taking ids from the parent's sequence."""
    low, high = _bounds(month)
    execute(cursor, sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
    execute(cursor, sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS, "
                            "CONSTRAINT {} CHECK (day >= {} AND day < {}))").format(
        sql.Identifier(name), sql.Identifier(table), sql.Identifier(f"{name}_month"), low, high))
    take_ids(cursor, table, name)


def take_ids(cursor, table: str, name: str):
    """Rows inserted into ``name`` take their ids from ``table``'s sequence (an identity column is
    not copied by LIKE, and a partition's own would start again at 1)."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    execute(cursor, sql.SQL("ALTER TABLE {} ALTER id SET DEFAULT nextval({}::regclass)").format(
        sql.Identifier(name), sql.Literal(sequence)))


def build_indexes(cursor, table: str, name: str):
    """The parent's indexes on a standalone month table, built after its rows are in (one sort
    each instead of an index entry per inserted row); ATTACH adopts them. The unique key refuses
    a key twice on one day (IntegrityError)."""
    s, part = SHAPES[table], sql.Identifier(name)
    execute(cursor, sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (id, day)").format(part))
    execute(cursor, sql.SQL("ALTER TABLE {} ADD UNIQUE ({})").format(part, names([s.key, "day"])))
    execute(cursor, sql.SQL("CREATE INDEX ON {} ({})").format(part, sql.Identifier(s.btree[1])))
    execute(cursor, sql.SQL("CREATE INDEX ON {} USING brin ({})").format(part, sql.Identifier(s.brin[1])))


def swap(cursor, table: str, name: str, month: dt.date):
    """Make the standalone table ``name`` the month's partition, in the caller's transaction: the
    old partition (if any) is detached and dropped and this one attached. DETACH holds an ACCESS
    EXCLUSIVE lock on the parent until COMMIT, so a reader sees the old month or the new one."""
    parent, canonical = sql.Identifier(table), partition_name(table, month)
    low, high = _bounds(month)
    if exists(canonical):
        execute(cursor, sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(parent, sql.Identifier(canonical)))
        execute(cursor, sql.SQL("DROP TABLE {}").format(sql.Identifier(canonical)))
    # Rows of the month in the DEFAULT partition are part of the month replaced (the caller counted them).
    execute(cursor, sql.SQL("DELETE FROM {} WHERE day >= {} AND day < {}").format(
        sql.Identifier(default_name(table)), low, high))
    execute(cursor, sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(name), sql.Identifier(canonical)))
    execute(cursor, sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
        parent, sql.Identifier(canonical), low, high))
    execute(cursor, sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
        sql.Identifier(canonical), sql.Identifier(f"{name}_month")))
    # Attached, its rows come through the parent, whose identity gives the ids: the table's own
    # default (take_ids) would only tie the parent's sequence to it, so that the sequence could
    # not be dropped (the migration back to one plain table drops it).
    execute(cursor, sql.SQL("ALTER TABLE {} ALTER id DROP DEFAULT").format(sql.Identifier(canonical)))


# --- the migration: a plain fact table into a partitioned one, and back -------------------------

def _drop_keys(cursor, table: str):
    """Drop a table's constraints and indexes, freeing their names for the table replacing it."""
    cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')", [table])
    for (name,) in cursor.fetchall():
        execute(cursor, sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(table), sql.Identifier(name)))
    cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass", [table])
    for (name,) in cursor.fetchall():
        execute(cursor, sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    # Its id sequence goes too, so that the new table's takes the usual name; a partition whose own
    # default still names that sequence (loaded before the swap dropped such defaults) lets go of it.
    cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [table])
    for (child,) in cursor.fetchall():
        execute(cursor, sql.SQL("ALTER TABLE {} ALTER id DROP DEFAULT").format(sql.Identifier(child)))
    execute(cursor, sql.SQL("ALTER TABLE {} ALTER id DROP IDENTITY IF EXISTS").format(sql.Identifier(table)))


def _parent_keys(cursor, s: Shape):
    t = sql.Identifier(s.table)
    execute(cursor, sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})").format(
        t, sql.Identifier(s.unique), names([s.key, "day"])))
    execute(cursor, sql.SQL("CREATE INDEX {} ON {} ({})").format(
        sql.Identifier(s.btree[0]), t, sql.Identifier(s.btree[1])))
    execute(cursor, sql.SQL("CREATE INDEX {} ON {} USING brin ({})").format(
        sql.Identifier(s.brin[0]), t, sql.Identifier(s.brin[1])))


def convert(cursor, table: str, *, partitioned: bool):
    """Rebuild ``table`` as a partitioned parent with a partition per month present and a DEFAULT
    (partitioned=True), or back as one plain table: rename, create, move the rows, drop the old,
    recreate the keys and the id sequence's position."""
    s, old = SHAPES[table], f"{table}_unpartitioned"
    t, o = sql.Identifier(table), sql.Identifier(old)
    execute(cursor, sql.SQL("ALTER TABLE {} RENAME TO {}").format(t, o))
    _drop_keys(cursor, old)
    cursor.execute("SELECT coalesce(max(id), 0) FROM " + sql.Identifier(old).as_string(cursor.connection))
    top = cursor.fetchone()[0]
    columns = sql.SQL("(LIKE {} INCLUDING DEFAULTS)").format(o)
    if partitioned:
        execute(cursor, sql.SQL("CREATE TABLE {} {} PARTITION BY RANGE (day)").format(t, columns))
    else:
        execute(cursor, sql.SQL("CREATE TABLE {} {}").format(t, columns))
    execute(cursor, sql.SQL("ALTER TABLE {} ALTER id ADD GENERATED BY DEFAULT AS IDENTITY").format(t))
    key = ["id", "day"] if partitioned else ["id"]
    execute(cursor, sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(t, names(key)))
    if partitioned:
        execute(cursor, sql.SQL("CREATE TABLE {} PARTITION OF {} DEFAULT").format(
            sql.Identifier(default_name(table)), t))
        cursor.execute(sql.SQL("SELECT DISTINCT date_trunc('month', day)::date FROM {}").format(o).as_string(
            cursor.connection))
        for (month,) in cursor.fetchall():
            low, high = _bounds(month)
            execute(cursor, sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier(partition_name(table, month)), t, low, high))
    execute(cursor, sql.SQL("INSERT INTO {} SELECT * FROM {}").format(t, o))
    execute(cursor, sql.SQL("DROP TABLE {} CASCADE").format(o))
    _parent_keys(cursor, s)
    if top:
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, top])

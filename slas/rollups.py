"""Rollups: the small tables reports read instead of raw facts.

DailyRollup keeps exact counts per London day, measure, region and service user (the heat map of
misses and per-day views read it). MonthRollup keeps the month's counts per measure, region and
service user with the latency histogram (the report, credits and percentiles read it). The
histogram is kept per month rather than per day: a day-level histogram multiplies the rows by ~30
and no page needs daily percentiles.

MonthSummary holds the report's groups (national or per region, and per service user) merged
from MonthRollup with their percentiles, so a report reads ~1,500 small rows instead of merging
~3,000 histograms on every read. It is recomputed from MonthRollup when the month's rollups have
changed (a fingerprint of them is stamped), by the writers below and, as a safety net, by a reader
that finds it stale.

Both are maintained incrementally (``apply`` adds deltas) when facts are folded or loaded, and
``rebuild_month`` recomputes a month from the facts (after a target or relief window changes).
On PostgreSQL the aggregation runs in SQL over the facts (one pass, the database does the work);
elsewhere (SQLite: tests, demo) the same arithmetic runs in Python (slas.metrics).
"""
from collections import Counter, defaultdict

from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from psycopg import sql

from portal.choices import REGION_PROVIDER
from slas import metrics, sqltext
from slas.choices import INTERVAL_COLUMN, MeasurementType, ProviderKind
from slas.models import (
    AlertFact,
    DailyRollup,
    FactArchive,
    Measure,
    MonthRollup,
    MonthSummary,
    MonthSummaryStamp,
    ReliefEvent,
    RequestFact,
)
from slas.sqltext import execute, names, table

REQUEST_COLUMNS = metrics.REQUEST_COLUMNS
ALERT_COLUMNS = metrics.ALERT_COLUMNS
REGION_TO_PROVIDER = {str(region): str(code) for region, code in REGION_PROVIDER.items()}
PROVIDER_REGION = {code: region for region, code in REGION_TO_PROVIDER.items()}


def provider_for(kind, region):
    """The provider a measure result belongs to: CSP measures go to the region's CSP."""
    if kind == ProviderKind.CSP:
        return REGION_TO_PROVIDER.get(region or "", "CSP")
    if kind == ProviderKind.RESOLVER:
        return region or ""  # incident measures: the resolver's organisation code, "" unassigned
    return str(kind)


class Deltas:
    """Counts to add to the rollups: daily[(day, measure_id, region, org_id)] = [measured, within,
    excluded]; monthly[(month, measure_id, region, org_id)] = [measured, within, excluded, Counter]."""

    def __init__(self):
        self.daily = defaultdict(lambda: [0, 0, 0])
        self.monthly = defaultdict(lambda: [0, 0, 0, Counter()])
        self.providers = {}

    def add(self, *, day, measure, region, org_id, duration, excluded):
        daily = self.daily[(day, measure.pk, region, org_id)]
        monthly = self.monthly[(metrics.month_start(day), measure.pk, region, org_id)]
        self.providers[(measure.pk, region)] = provider_for(measure.provider, region)
        if excluded:
            daily[2] += 1
            monthly[2] += 1
            return
        daily[0] += 1
        monthly[0] += 1
        if duration == metrics.MISS:
            return
        if metrics.within(duration, measure.target_us):
            daily[1] += 1
            monthly[1] += 1
        monthly[3][metrics.bucket(duration)] += 1


def _measures_by_type():
    by_type = defaultdict(list)
    for measure in Measure.objects.of_facts():
        by_type[measure.measurement_type].append(measure)
    return by_type


def _reliefs(first_day=None, last_day=None):
    return list(ReliefEvent.objects.all())


def aggregate_python(facts, *, alerts=False, measures=None, reliefs=None, deltas=None):
    """Fold fact dicts (or model instances) into Deltas. Facts not measured are skipped."""
    measures = measures if measures is not None else _measures_by_type()
    reliefs = reliefs if reliefs is not None else _reliefs()
    deltas = deltas or Deltas()
    for fact in facts:
        get = fact.get if isinstance(fact, dict) else fact.__dict__.get
        if not alerts and not get("measured", True):
            continue
        mtype = MeasurementType.ALERT if alerts else get("measurement_type")
        start = get("raised_at") if alerts else get("start_at")
        region = get("region") or ""
        for measure in measures.get(mtype, ()):
            duration = get(INTERVAL_COLUMN[measure.interval])
            if duration is None:
                continue
            provider = provider_for(measure.provider, region)
            excluded = any(r.applies(provider, region, start) for r in reliefs) if reliefs else False
            deltas.add(day=get("day"), measure=measure, region=region, org_id=get("organisation_id"),
                       duration=duration, excluded=excluded)
    return deltas


ROLLUP_KEY = ("measure_id", "region", "organisation_id")  # after the day or month
COUNTS = ("measured", "within", "excluded")


def _add_counts(rollup) -> sql.Composable:
    """ON CONFLICT's SET: the new counts added to the row's ("excluded" is also PostgreSQL's and
    SQLite's name for the row that was refused; the first of each pair below is that row)."""
    return sql.SQL(", ").join(sql.SQL("{c} = {t}.{c} + excluded.{c}").format(c=sql.Identifier(c), t=table(rollup))
                              for c in COUNTS)


DAILY_UPSERT = sql.SQL("INSERT INTO {t} ({columns}) VALUES ({values}) ON CONFLICT ({key}) DO UPDATE SET {add}").format(
    t=table(DailyRollup), columns=names(("day", "measure_id", "provider", "region", "organisation_id", *COUNTS)),
    values=sql.SQL(", ").join(sql.Placeholder() * 8), key=names(("day", *ROLLUP_KEY)), add=_add_counts(DailyRollup))


def apply(deltas):
    """Add deltas to the rollups (inside the caller's transaction)."""
    if deltas.daily:
        rows = [(day, measure_id, deltas.providers[(measure_id, region)], region, org_id, *counts)
                for (day, measure_id, region, org_id), counts in deltas.daily.items()]
        with connection.cursor() as cursor:
            cursor.executemany(sqltext.text(DAILY_UPSERT), rows)
    apply_monthly(deltas.monthly, deltas.providers)


def apply_monthly(monthly, providers):
    if not monthly:
        return
    months = {key[0] for key in monthly}
    measure_ids = {key[1] for key in monthly}
    existing = {
        (row.month, row.measure_id, row.region, row.organisation_id): row
        for row in MonthRollup.objects.select_for_update().filter(month__in=months, measure_id__in=measure_ids)
    }
    changed, created = [], []
    for key, (measured, within, excluded, histogram) in monthly.items():
        row = existing.get(key)
        if row is None:
            month, measure_id, region, org_id = key
            row = MonthRollup(month=month, measure_id=measure_id, region=region, organisation_id=org_id,
                              provider=providers[(measure_id, region)], histogram={})
            created.append(row)
        else:
            changed.append(row)
        row.measured += measured
        row.within += within
        row.excluded += excluded
        metrics.merge_histogram(row.histogram, histogram)
    if changed:
        MonthRollup.objects.bulk_update(changed, ["measured", "within", "excluded", "histogram"], batch_size=1000)
    if created:
        MonthRollup.objects.bulk_create(created, batch_size=1000)


# --- PostgreSQL: the same aggregation in one SQL pass -------------------------------------------

BULK_WORK_MEM = "64MB"
ROLLUP_WORK_MEM = "160MB"  # x hash_mem_multiplier 2: 320 MB for the rollup of a month being loaded


def bulk_settings(cursor):
    """For the rest of this transaction (a month's load or rebuild): room for the hash aggregates
    to stay in memory at a few million facts. With the default 4 MB they spilled to disk in ~25
    batches, a third of the rollup time. Three hash nodes at hash_mem_multiplier 2 stay near
    400 MB, well under the 1 GB a process may use; larger loads spill, which is still correct."""
    execute(cursor, sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(BULK_WORK_MEM)))


def _sql_parts(*, alerts, measures, reliefs):
    columns = ALERT_COLUMNS if alerts else REQUEST_COLUMNS
    start = sql.Identifier("raised_at" if alerts else "start_at")
    values, params = [], []
    for measure in measures:
        column = INTERVAL_COLUMN[measure.interval]
        values.append(sql.SQL("(%s::bigint, %s::text, %s::text, %s::int, %s::bigint)"))
        params += [measure.pk, measure.measurement_type, measure.provider, columns.index(column), measure.target_us]
    case = sql.SQL(" ").join(sql.SQL("WHEN {} THEN f.{}").format(sql.Literal(i), sql.Identifier(column))
                             for i, column in enumerate(columns))
    relief_sql, relief_params = [], []
    for relief in reliefs:
        region = PROVIDER_REGION.get(relief.provider) or relief.region
        kind = "CSP" if relief.provider in PROVIDER_REGION else relief.provider
        clause = sql.SQL("m.pkind = %s AND f.{start} >= %s AND f.{start} < %s").format(start=start)
        relief_params += [kind, relief.starts_at, relief.ends_at]
        if region:
            clause = sql.SQL("{} AND f.region = %s").format(clause)
            relief_params.append(region)
        relief_sql.append(sql.SQL("({})").format(clause))
    relief = sql.SQL(" OR ").join(relief_sql) if relief_sql else sql.SQL("FALSE")
    return sql.SQL(", ").join(values), params, case, relief, relief_params


def _provider_sql():
    """provider_for as SQL over pkind (the measure's provider kind) and region."""
    regional = sql.SQL(" ").join(sql.SQL("WHEN {} THEN {}").format(sql.Literal(region), sql.Literal(code))
                                 for region, code in REGION_TO_PROVIDER.items())
    return sql.SQL("CASE WHEN pkind = {csp} THEN CASE region {regional} ELSE {csp} END ELSE pkind END").format(
        csp=sql.Literal(str(ProviderKind.CSP)), regional=regional)


def aggregate_sql(*, alerts, where: sql.Composable, where_params, measures=None, reliefs=None,
                  source: sql.Identifier | None = None):
    """Aggregate facts matching ``where`` (SQL over alias f) straight into DailyRollup and MonthRollup
    (counts added, histograms merged bucket by bucket) in one statement. PostgreSQL only.
    ``source``: a table of the fact table's shape to read instead (a month being loaded).

    One pass over the facts (each joined to the measures of its type) feeds both rollups through
    GROUPING SETS: a hash table per set, filled in the same scan, so nothing is materialised per
    fact and measure (that took 3.5 rows a fact to a tuplestore, then two scans of it); only the
    groups (thousands of rows) are kept for the two INSERTs."""
    measures = [m for m in (measures or Measure.objects.of_facts()) if m.is_alert == alerts and not m.is_incident]
    if not measures:
        return
    reliefs = reliefs if reliefs is not None else _reliefs()
    values, params, case, relief_sql, relief_params = _sql_parts(alerts=alerts, measures=measures, reliefs=reliefs)
    facts = source or table(AlertFact if alerts else RequestFact)
    type_join = sql.SQL("TRUE" if alerts else "m.mtype = f.measurement_type AND f.measured")
    provider_sql = _provider_sql()
    v, target = sql.Identifier("v"), sql.Identifier("target_us")
    daily, monthly = table(DailyRollup), table(MonthRollup)
    # b: the histogram bucket, -2 a miss (no answer), -3 excluded by a relief window. In g a row
    # with day set is a daily group, a row with b set a month group (GROUPING SETS leaves the
    # other's columns NULL).
    query = sql.SQL("""
    WITH m(measure_id, mtype, pkind, col, target_us) AS (VALUES {values}),
    g AS MATERIALIZED (
      SELECT day, month, measure_id, pkind, region, organisation_id, b,
             count(*) FILTER (WHERE NOT excl) AS measured,
             count(*) FILTER (WHERE NOT excl AND {within}) AS within,
             count(*) FILTER (WHERE excl) AS excluded,
             count(*) AS n, count(*) FILTER (WHERE {within}) AS w,
             GROUPING(day) = 0 AS is_day
      FROM (
        SELECT *, date_trunc('month', day)::date AS month,
               CASE WHEN excl THEN -3 WHEN v < 0 THEN -2 ELSE {bucket} END AS b
        FROM (
          SELECT f.day, f.region, f.organisation_id, m.measure_id, m.pkind, m.target_us,
                 CASE m.col {case} END AS v, ({relief_sql}) AS excl
          FROM {facts} f JOIN m ON {type_join}
          WHERE {where}
        ) y WHERE v IS NOT NULL
      ) z
      GROUP BY GROUPING SETS ((day, measure_id, pkind, region, organisation_id),
                              (month, measure_id, pkind, region, organisation_id, b))
    ),
    ins AS (
      INSERT INTO {daily} (day, {key}, provider, {counts})
      SELECT day, measure_id, region, organisation_id, {provider_sql}, measured, within, excluded
      FROM g WHERE is_day
      ON CONFLICT (day, {key}) DO UPDATE SET {add_daily}
    )
    INSERT INTO {monthly} (month, {key}, provider, {counts}, histogram)
    SELECT month, measure_id, region, organisation_id, min({provider_sql}),
           coalesce(sum(n) FILTER (WHERE b <> -3), 0), coalesce(sum(w) FILTER (WHERE b >= 0), 0),
           coalesce(sum(n) FILTER (WHERE b = -3), 0),
           coalesce(jsonb_object_agg(b::text, n) FILTER (WHERE b >= 0), '{{}}'::jsonb)
    FROM g WHERE NOT is_day GROUP BY month, measure_id, region, organisation_id
    ON CONFLICT (month, {key}) DO UPDATE SET {add_monthly},
      histogram = (SELECT coalesce(jsonb_object_agg(k, t), '{{}}'::jsonb) FROM (
                     SELECT k, sum(c::bigint) AS t FROM (
                       SELECT * FROM jsonb_each_text({monthly}.histogram)
                       UNION ALL SELECT * FROM jsonb_each_text(EXCLUDED.histogram)) u(k, c)
                     GROUP BY k) merged)
    """).format(values=values, case=case, relief_sql=relief_sql, facts=facts, type_join=type_join, where=where,
                daily=daily, monthly=monthly, key=names(ROLLUP_KEY), counts=names(COUNTS), provider_sql=provider_sql,
                within=metrics.within_sql(v, target), bucket=metrics.bucket_sql(v),
                add_daily=_add_counts(DailyRollup), add_monthly=_add_counts(MonthRollup))
    # Counts and histograms are summed in the database: only a statement goes over the wire.
    with connection.cursor() as cursor:
        if source is not None:
            # A month being loaded: the hash tables of both grouping sets (half a million month
            # groups at a million facts) spilled in 9 batches at the load's work_mem; room for
            # this statement only, then the load's setting again.
            cursor.execute("SELECT current_setting('work_mem')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('work_mem', %s, true)", [ROLLUP_WORK_MEM])
            execute(cursor, query, [*params, *relief_params, *where_params])
            cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])
            return
        execute(cursor, query, [*params, *relief_params, *where_params])


def clear_months(months, *, alerts):
    """Delete the fact rollups (of alert measures or of request measures) of ``months``, whose
    facts are being replaced; the incident measures' rows stay (counted from incident clocks)."""
    measures = [m.pk for m in Measure.objects.of_facts() if m.is_alert == alerts and not m.is_incident]
    for month in months:
        DailyRollup.objects.filter(day__gte=month, day__lt=metrics.next_month(month), measure__in=measures).delete()
        MonthRollup.objects.filter(month=month, measure__in=measures).delete()


def fold_into_rollups(facts, *, alerts=False):
    """Incremental path: new facts (dicts or instances) -> deltas -> rollups."""
    apply(aggregate_python(facts, alerts=alerts))


def rebuild_month(month):
    """Recompute a month's rollups from its facts (both kinds). Returns the number of facts read."""
    month = metrics.month_start(month)
    following = metrics.next_month(month)
    if FactArchive.objects.filter(month=month, restored_at__isnull=True).exists():
        # Its facts are in archive files (slas.archive): its rollups are all that is left of it.
        raise ValueError(f"{month:%Y-%m}: facts archived; restore them (slas_restore_facts) before a rebuild")
    with transaction.atomic():
        DailyRollup.objects.filter(day__gte=month, day__lt=following).delete()
        # The incident measures' rows stay: they are counted from the incident clocks, not from
        # facts (slas.incidents.refresh_month), and a rebuild of the facts leaves them as they are.
        MonthRollup.objects.filter(month=month).exclude(measure__measurement_type=MeasurementType.INCIDENT).delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                bulk_settings(cursor)
            for alerts in (False, True):
                # The month as a range of the indexed start time (day is the London date of it).
                start, end = metrics.month_bounds(month)
                stamp = "raised_at" if alerts else "start_at"
                aggregate_sql(alerts=alerts, where=sql.SQL("f.{stamp} >= %s AND f.{stamp} < %s").format(
                    stamp=sql.Identifier(stamp)), where_params=[start, end])
            refresh_summaries([month])
            return
        measures, reliefs = _measures_by_type(), _reliefs()
        deltas = Deltas()
        requests = RequestFact.objects.filter(day__gte=month, day__lt=following).values(
            "measured", "measurement_type", "start_at", "region", "day", "organisation_id", *REQUEST_COLUMNS)
        aggregate_python(requests.iterator(chunk_size=5000), measures=measures, reliefs=reliefs, deltas=deltas)
        alerts = AlertFact.objects.filter(day__gte=month, day__lt=following).values(
            "raised_at", "region", "day", "organisation_id", *ALERT_COLUMNS)
        aggregate_python(alerts.iterator(chunk_size=5000), alerts=True, measures=measures, reliefs=reliefs,
                         deltas=deltas)
        apply(deltas)
        refresh_summaries([month])


# --- the report's summary -----------------------------------------------------------------------

REPORT_FRACTIONS = (0.50, 0.95, 0.99)


def _fingerprints(months=None):
    """{month: fingerprint} of the MonthRollup rows. Every rollup write adds to a count (a fact is
    measured or excluded) or replaces rows (new ids), so the fingerprint moves with any change."""
    rows = MonthRollup.objects.all()
    if months is not None:
        rows = rows.filter(month__in=months)
    sums = rows.values("month").annotate(n=Count("id"), m=Sum("measured"), w=Sum("within"), x=Sum("excluded"),
                                         top=Max("id"))
    return {r["month"]: f"{r['n']}:{r['m']}:{r['w']}:{r['x']}:{r['top']}" for r in sums}


def refresh_summaries(months=None):
    """Recompute the summary of every month (or of ``months``) whose rollups changed since it was
    computed. Cheap when nothing changed: two small aggregate queries. Returns the months redone."""
    months = None if months is None else [metrics.month_start(m) for m in months]
    current = _fingerprints(months)
    stamps = MonthSummaryStamp.objects.all()
    if months is not None:
        stamps = stamps.filter(month__in=months)
    stamped = dict(stamps.values_list("month", "fingerprint"))
    redone = []
    for month in sorted(set(current) | set(stamped)):
        if current.get(month, "") != stamped.get(month):
            _refresh_month(month)
            redone.append(month)
    return redone


def _refresh_month(month):
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One refresher per month at a time; the later one reads what the earlier committed.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('slas summary'), %s)", [month.toordinal()])
        # The fingerprint is read before the rows: if a write lands between the two, the rows are
        # newer than the stamp and the next reader recomputes (never the other way round).
        fingerprint = _fingerprints([month]).get(month, "")
        measures = {m.pk: m for m in Measure.objects.all()}
        # Measures reported per region (CSP) or per resolver (incidents) keep the rollup's region.
        csp = {pk for pk, m in measures.items() if m.provider in (ProviderKind.CSP, ProviderKind.RESOLVER)}
        groups = defaultdict(lambda: [0, 0, 0, {}])
        rows = MonthRollup.objects.filter(month=month).values_list(
            "measure_id", "region", "organisation_id", "measured", "within", "excluded", "histogram")
        for measure_id, region, org_id, measured, within, excluded, histogram in rows.iterator(chunk_size=2000):
            if measure_id not in measures:
                continue
            key_region = region if measure_id in csp else ""
            for key in ((measure_id, key_region, None), (measure_id, key_region, org_id)):
                group = groups[key]
                group[0] += measured
                group[1] += within
                group[2] += excluded
                metrics.merge_histogram(group[3], histogram)
        summaries = []
        for (measure_id, region, org_id), (measured, within, excluded, histogram) in groups.items():
            p50, p95, p99 = metrics.percentiles_cont(histogram, REPORT_FRACTIONS)
            summaries.append(MonthSummary(
                month=month, measure_id=measure_id, region=region, organisation_id=org_id, measured=measured,
                within=within, excluded=excluded, p50_seconds=p50, p95_seconds=p95, p99_seconds=p99,
                histogram=histogram))
        MonthSummary.objects.filter(month=month).delete()
        MonthSummary.objects.bulk_create(summaries, batch_size=500)
        MonthSummaryStamp.objects.update_or_create(month=month, defaults={"fingerprint": fingerprint})

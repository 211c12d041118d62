"""Background work of the adapter (django-q2): sending requests, finishing them, timeouts,
crash recovery, batch checking. One task advances many requests with bulk updates.

Crash safety: a request is claimed together with a SendAttempt row (unique per request and
attempt number) in one transaction before it is handed over; only the worker that created the
attempt sends it. A worker killed mid-chunk leaves attempts in "sending"; ``recover`` marks them
lost after the lease and puts the request back in the queue as a new attempt (or fails it after
MAX_ATTEMPTS), so every request ends in exactly one terminal state and no attempt is sent twice.
"""
import datetime as dt
import json
import logging
import re
import time
import zlib
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from psycopg import sql

from adapter.backends import BackendError, get_backend
from adapter.choices import AttemptState, BatchState, MeasurementType, RequestState
from adapter.models import Batch, BatchRow, SendAttempt, ServiceRequest, ServiceRequestVariant

log = logging.getLogger(__name__)

CHUNK = 1000
# The django-q2 queue of single requests (Q_CLUSTER["ALT_CLUSTERS"]): a second qcluster started
# with Q_CLUSTER_NAME=urgent works it, so a single on-demand request is sent within a poll interval
# even while the main cluster's workers are busy with a batch. Chosen over sending inside the web
# request: the API still answers I99 at once, and no web process waits on the network (DUIS
# retries take seconds). Without that cluster running, the minute's ``advance`` sweep sends them.
URGENT_CLUSTER = "urgent"
MAX_ATTEMPTS = 3
TIME_FIELDS = ["dsp_sent_at", "wan_delivered_at", "device_responded_at", "wan_returned_at", "responded_at"]
# How long a response may take before the request ends: on-demand E21, future-dated E30.
TIMEOUTS = {
    MeasurementType.ON_DEMAND: dt.timedelta(minutes=5),
    MeasurementType.DCC_ONLY: dt.timedelta(minutes=5),
    MeasurementType.FUTURE_DATED: dt.timedelta(hours=24),
    MeasurementType.FIRMWARE: dt.timedelta(days=5),
    MeasurementType.DSP_SCHEDULED: dt.timedelta(hours=24),
    MeasurementType.METER_SCHEDULED: dt.timedelta(hours=24),
}


def lease_seconds():
    # How long an attempt may stay "sending" before its worker is presumed dead.
    return float(settings.ADAPTER_LEASE_SECONDS)


def _due(now, *, paced_too=False):
    """Queued requests whose time has come: not held, or held by DSP until execute_at; none of a
    held batch (a paused rollout's wave: nothing new is sent until it resumes), and none of a paced
    batch unless asked (``paced_too``: only a paced batch's own dispatch sends it, at its pace)."""
    stopped = Q(held=True) if paced_too else Q(held=True) | Q(paced=True)
    return ServiceRequest.objects.filter(state=RequestState.QUEUED).filter(
        Q(execute_at__isnull=True) | Q(execute_at__lte=now) | Q(srv__future_dated_pattern="Device")
    ).exclude(batch_id__in=Batch.objects.filter(stopped).values("pk"))


def _claim(ids=None, batch_id=None, now=None, backend_name=""):
    """Claim up to CHUNK due requests for this worker: state sent, a new SendAttempt each. Returns
    the claimed requests (with their SRV, read in the locking query); each one's ``attempts`` is
    the number of the attempt this worker now owns."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = _due(now)
        if ids is not None:
            qs = qs.filter(pk__in=ids)
        if batch_id is not None:
            qs = qs.filter(batch_id=batch_id)
        requests = list(qs.select_for_update(skip_locked=True, of=("self",)).select_related("srv")
                        .order_by("pk")[:CHUNK])
        return _take(requests, now, backend_name)


def _take(requests, now, backend_name):
    """Mark the locked ``requests`` sent, each with its new SendAttempt (inside the claim's transaction)."""
    if not requests:
        return []
    for request in requests:
        request.state, request.attempts = RequestState.SENT, request.attempts + 1
    bulk_insert(SendAttempt, [
        SendAttempt(request_id=request.pk, attempt=request.attempts, backend=backend_name, started_at=now)
        for request in requests
    ])
    ServiceRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        state=RequestState.SENT, attempts=F("attempts") + 1)
    return requests


def _claim_paced(rollout_id, now=None, backend_name=""):
    """Claim what a paced rollout's throttle and window let go now, at most CHUNK, from all its
    paced batches. Returns (requests, allowance); no requests and an allowance whose ``wait`` is set:
    try again after that many seconds; ``wait`` None: nothing to do until the window opens or a
    response comes."""
    from adapter import pacing
    from adapter.models import Rollout

    now = now or timezone.now()
    with transaction.atomic():
        # The rollout's row lock: two senders of one rollout never spend the same allowance.
        rollout = Rollout.objects.select_for_update(of=("self",)).filter(pk=rollout_id).first()
        if rollout is None:
            return [], None
        allowance = pacing.allowance(rollout, now=now, cap=CHUNK)
        if allowance.total <= 0:
            return [], allowance
        qs = (_due(now, paced_too=True).filter(batch__rollout_id=rollout_id, batch__paced=True)
              .select_for_update(skip_locked=True, of=("self",)).select_related("srv").order_by("pk"))
        if allowance.regions is None:
            requests = list(qs[:allowance.total])
        else:
            requests, left = [], allowance.total
            for region, most in allowance.regions.items():
                if left <= 0:
                    break
                if most > 0:
                    taken = list(qs.filter(region=region)[:min(most, left)])
                    requests += taken
                    left -= len(taken)
            if not requests:
                # nothing from the open regions: if the closed ones have requests waiting, wait for them
                closed = [r for r, most in allowance.regions.items() if most <= 0]
                due = _due(now, paced_too=True).filter(batch__rollout_id=rollout_id, batch__paced=True)
                waiting = [r for r in closed if due.filter(region=r).exists()]
                if waiting:
                    allowance.stopped_by(waiting)
        return _take(requests, now, backend_name), allowance


def _apply(request, outcome, now):
    for name, value in outcome.times.items():
        if name in TIME_FIELDS and value is not None:
            setattr(request, name, value)
    request.outcome = outcome.code
    if outcome.body:
        request.response = outcome.body
    if outcome.message:
        request.message = outcome.message
    if outcome.final:
        request.state = RequestState.RESPONDED if outcome.code == "I0" else RequestState.FAILED
        request.completed_at = now
    else:
        request.state = RequestState.SENT


UPDATE_FIELDS = [*TIME_FIELDS, "state", "outcome", "response", "message", "completed_at"]


def _send_chunk(requests, backend):
    """Send the requests ``_claim`` gave (each one's ``attempts`` is the attempt this worker owns)
    and write their results, set-based: one UPDATE of the requests' own values (bulk_set), one
    UPDATE per attempt outcome."""
    # (attempt state, outcome code) -> [(request pk, attempt number)]
    finished, retry, updated = {}, [], []
    for request in requests:
        number = request.attempts
        try:
            outcome = backend.send(request, attempt=number)
        except BackendError as exc:
            log.warning("send of %s failed: %s", request.request_id, exc)
            finished.setdefault((AttemptState.LOST, "E20"), []).append((request.pk, number))
            if request.attempts < MAX_ATTEMPTS and not exc.final:
                retry.append(request)
            else:
                request.state, request.outcome = RequestState.FAILED, "E20"
                # a final error (a signature refused) says itself what happened
                request.message = str(exc) if exc.final else f"Could not be handed to the network: {exc}"
                request.completed_at = timezone.now()
                updated.append(request)
            continue
        _apply(request, outcome, timezone.now())
        updated.append(request)
        finished.setdefault((AttemptState.DONE, outcome.code), []).append((request.pk, number))
    with transaction.atomic():
        # Only attempts still ours are written: one that ``recover`` declared lost (this worker
        # outlived its lease) has been queued again, and its next attempt's result is the one kept.
        mine = set(SendAttempt.objects.select_for_update().filter(
            request_id__in=[r.pk for r in requests], state=AttemptState.SENDING).order_by()
            .values_list("request_id", "attempt"))
        updated = [r for r in updated if (r.pk, r.attempts) in mine]
        retry = [r.pk for r in retry if (r.pk, r.attempts) in mine]
        backend.flush()
        bulk_set(ServiceRequest, updated, UPDATE_FIELDS)
        now = timezone.now()
        for (state, code), pairs in finished.items():
            by_number = {}
            for pk, number in pairs:
                if (pk, number) in mine:
                    by_number.setdefault(number, []).append(pk)
            for number, pks in by_number.items():
                SendAttempt.objects.filter(request_id__in=pks, attempt=number, state=AttemptState.SENDING).update(
                    state=state, finished_at=now, outcome=code)
        if retry:
            ServiceRequest.objects.filter(pk__in=retry, state=RequestState.SENT).update(state=RequestState.QUEUED)
    _announce_failures([r for r in updated if r.state == RequestState.FAILED and r.batch_id is None])
    return len(requests)


def _converters(fields, connection):
    """Per field, the cheapest correct conversion to a database parameter (get_db_prep_save is
    general and slow; dates and plain values need far less)."""
    def plain(field):
        return lambda obj: getattr(obj, field.attname)

    def datetime(field):
        adapt = connection.ops.adapt_datetimefield_value
        return lambda obj: adapt(getattr(obj, field.attname))

    def general(field):
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)

    result = []
    for field in fields:
        kind = field.get_internal_type()
        if kind == "DateTimeField" and not (getattr(field, "auto_now", False) or getattr(field, "auto_now_add",
                                                                                           False)):
            result.append(datetime(field))
        elif kind in ("CharField", "TextField", "BooleanField", "PositiveIntegerField", "PositiveSmallIntegerField",
                      "ForeignKey", "OneToOneField", "IntegerField", "BigIntegerField"):
            result.append(plain(field))
        else:
            result.append(general(field))
    return result


def bulk_set(model, objects, fields):
    """UPDATE each row's ``fields`` by primary key: one COPY and one UPDATE on PostgreSQL, one
    prepared statement (executemany) elsewhere. Django's bulk_update builds a CASE WHEN per field
    and row, which costs seconds per thousand rows; this is the same write at the speed of the
    database driver."""
    from django.db import connection

    if not objects:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    table, pk = sql.Identifier(meta.db_table), sql.Identifier(meta.pk.column)
    convert = _converters(columns, connection)
    rows = [[c(obj) for c in convert] + [obj.pk] for obj in objects]
    if connection.vendor == "postgresql":
        # executemany is one round trip per row on PostgreSQL, and a VALUES list of thousands of
        # placeholders costs more to build client-side than to run. Instead the rows are COPYed
        # into a temporary table shaped like the target columns, then one UPDATE ... FROM joins it.
        temp = sql.Identifier(f"bulk_set_{meta.db_table}_{zlib.crc32(','.join(fields).encode())}")
        names = sql.SQL(", ").join(sql.Identifier(f.column) for f in columns)
        sets = sql.SQL(", ").join(sql.SQL("{c} = v.{c}").format(c=sql.Identifier(f.column)) for f in columns)
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(_sql_text(connection, sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {temp} ON COMMIT DELETE ROWS AS "
                "SELECT {names}, {pk} FROM {table} WITH NO DATA").format(temp=temp, names=names, pk=pk, table=table)))
            # empty even when called twice in one transaction
            cursor.execute(_sql_text(connection, sql.SQL("TRUNCATE {}").format(temp)))
            with cursor.cursor.copy(sql.SQL("COPY {} ({}, {}) FROM STDIN").format(temp, names, pk)) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(_sql_text(connection, sql.SQL(
                "UPDATE {table} SET {sets} FROM {temp} AS v WHERE {table}.{pk} = v.{pk}").format(
                    table=table, sets=sets, temp=temp, pk=pk)))
        return
    update = sql.SQL("UPDATE {} SET {} WHERE {} = %s").format(
        table, sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(f.column)) for f in columns), pk)
    with connection.cursor() as cursor:
        cursor.executemany(_sql_text(connection, update), rows)


def _sql_text(connection, query):
    """A statement composed with psycopg.sql as text (Django's cursor wrappers log and time text);
    SQLite takes the standard double-quoted identifiers psycopg writes without a connection."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        return query.as_string(connection.connection)
    return query.as_string()


def bulk_insert(model, objects):
    """INSERT the objects with one prepared statement (executemany). On SQLite Django splits a
    bulk_create of a wide model into statements of ~28 rows; this keeps a 100,000-row batch to
    seconds. Primary keys are not read back: callers that need them look rows up by natural key."""
    from django.db import connection

    if not objects:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    table = sql.Identifier(meta.db_table)
    names = sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
    convert = _converters(fields, connection)
    rows = [[c(obj) for c in convert] for obj in objects]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: one stream instead of a round trip per row
            with cursor.cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, names)) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table, names, sql.SQL(", ").join(sql.Placeholder() * len(fields)))
        cursor.executemany(_sql_text(connection, insert), rows)


def _announce_failures(requests):
    from portal import events

    for request in requests:
        events.publish("request.failed", obj=request, organisation=request.organisation,
                       summary=f"Service request {request.request_id} failed ({request.outcome})",
                       body=request.message, url=request.get_absolute_url())


def dispatch(ids=None, batch_id=None, budget=20.0, cluster_name=None):
    """Send due requests (the given ones, a batch's, or all) in chunks until none is left or the
    time budget is spent; then hand the rest to a fresh task so no task runs for long, on the
    same cluster's queue (``cluster_name``: the urgent one for single requests, which must never land
    behind a batch's chunks on the main queue)."""
    backend = get_backend()
    if batch_id is not None:
        from adapter import pacing

        rollout_id = pacing.rollout_of_paced(batch_id)
        if rollout_id is not None:
            return _dispatch_paced(rollout_id, batch_id, backend, budget)
    started = time.monotonic()
    sent = 0
    while True:
        claimed = _claim(ids=ids, batch_id=batch_id, backend_name=backend.name)
        if not claimed:
            break
        sent += _send_chunk(claimed, backend)
        if time.monotonic() - started > budget:
            from django_q.tasks import async_task

            on_cluster = {"cluster": cluster_name} if cluster_name else {}
            async_task("adapter.tasks.dispatch", ids=ids, batch_id=batch_id, cluster_name=cluster_name,
                       task_name="adapter dispatch", group="adapter", **on_cluster)
            break
    if batch_id is not None:
        batch_finish_if_done(batch_id)
        from adapter import rollouts

        rollouts.batch_progressed(batch_id)  # a rollout's wave: its thresholds, at once
    elif ids:
        # single requests of a batch (a critical row signed later) may be the last ones it waited for
        for of_batch, paced in set(ServiceRequest.objects.filter(pk__in=ids, batch__isnull=False)
                                   .values_list("batch_id", "batch__paced")):
            if paced:
                _enqueue_batch_dispatch(of_batch)  # sent by its own dispatch, at its rollout's pace
            else:
                batch_finish_if_done(of_batch)
    return sent


# Sleeping between a paced rollout's claims (tests move a frozen clock instead).
_sleep = time.sleep
# Two numbers name an advisory lock in PostgreSQL: this one says "pacing rollout <pk>".
PACE_LOCK_CLASS = zlib.crc32(b"adapter.rollout_pace") & 0x7FFFFFFF


def _dispatch_paced(rollout_id, batch_id, backend, budget):
    """Send a paced rollout's due requests at its pace: claim what its allowance lets go, send it,
    wait until more may go; stop when nothing is due, the window is shut, or the time budget is
    spent (then a fresh task goes on). One sender per rollout at a time (an advisory lock on
    PostgreSQL): the batch check hands a dispatch task to every worker, and the others return at
    once to serve other work rather than wait on the same throttle."""
    started = time.monotonic()
    slept, sent, again = 0.0, 0, False
    with _advisory(PACE_LOCK_CLASS, rollout_id) as mine:
        if not mine:
            return 0
        while True:
            claimed, allowance = _claim_paced(rollout_id, backend_name=backend.name)
            if claimed:
                sent += _send_chunk(claimed, backend)
            elif allowance is None or allowance.total > 0 or allowance.wait is None:
                break  # nothing due, or nothing may go until the window opens
            elif allowance.responses_awaited and not sent:
                break  # responses awaited and nothing sent by this task: the minute's evaluation looks again
            else:
                _sleep(allowance.wait)
                slept += allowance.wait
            if time.monotonic() - started + slept > budget:
                again = sent > 0
                break
    if again:
        _enqueue_batch_dispatch(batch_id)
    # its claims took from every paced batch of the rollout (a wave's stragglers, the next wave)
    for of_rollout in Batch.objects.filter(rollout_id=rollout_id, paced=True, state=BatchState.RUNNING).values_list(
            "pk", flat=True):
        batch_finish_if_done(of_rollout)
    from adapter import rollouts

    rollouts.batch_progressed(batch_id)
    return sent


@contextmanager
def _advisory(lock_class, key):
    """True while this connection alone holds the session advisory lock (lock_class, key) on
    PostgreSQL; always True elsewhere (SQLite: one worker sends a batch)."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [lock_class, key])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, key])
            except DatabaseError:
                connection.close()


def recover(now=None):
    """Attempts left "sending" by a worker that died: mark them lost and queue the request again
    (a new attempt number) or fail it with E20 after MAX_ATTEMPTS.

    The attempt rows are locked (SKIP LOCKED: two sweeps never handle the same one) and a request
    moves only if its current attempt is the one found lost, so a sweep working from an old list
    cannot pull back a request another worker has meanwhile claimed again."""
    now = now or timezone.now()
    limit = now - dt.timedelta(seconds=lease_seconds())
    with transaction.atomic():
        stale = list(SendAttempt.objects.select_for_update(skip_locked=True)
                     .filter(state=AttemptState.SENDING, started_at__lt=limit)
                     .order_by("pk").values_list("pk", "request_id", "attempt")[:CHUNK * 4])
        if not stale:
            return 0
        SendAttempt.objects.filter(pk__in=[pk for pk, _, _ in stale]).update(
            state=AttemptState.LOST, finished_at=now)
        by_number = {}
        for _pk, request_id, number in stale:
            by_number.setdefault(number, []).append(request_id)
        for number, request_pks in by_number.items():
            current = ServiceRequest.objects.filter(pk__in=request_pks, state=RequestState.SENT, attempts=number)
            if number < MAX_ATTEMPTS:
                current.update(state=RequestState.QUEUED)
            else:
                current.update(state=RequestState.FAILED, outcome="E20", completed_at=now,
                               message="The worker sending it stopped on every attempt.")
    return len(stale)


def collect(now=None):
    """Responses of acknowledged future-dated requests whose execution time has passed."""
    now = now or timezone.now()
    backend = get_backend()
    waiting = list(ServiceRequest.objects.filter(state=RequestState.SENT, outcome="I99", execute_at__lte=now)
                   .select_related("srv")[:CHUNK * 4])
    done = []
    for request in waiting:
        outcome = backend.collect(request, now=now)
        if outcome is not None:
            _apply(request, outcome, now)
            done.append(request)
    bulk_set(ServiceRequest, done, UPDATE_FIELDS)
    return len(done)


def time_out(now=None):
    """End requests whose response never came: E30 for future-dated, E21 for the others."""
    now = now or timezone.now()
    ended = 0
    for mtype, limit in TIMEOUTS.items():
        code = "E30" if mtype == MeasurementType.FUTURE_DATED else "E21"
        base = ServiceRequest.objects.filter(state=RequestState.SENT, measurement_type=mtype).exclude(
            pk__in=SendAttempt.objects.filter(state=AttemptState.SENDING).values("request_id"))
        if mtype == MeasurementType.FUTURE_DATED:
            overdue = base.filter(execute_at__lt=now - limit)
        else:
            overdue = base.filter(Q(dsp_sent_at__lt=now - limit) | Q(dsp_sent_at__isnull=True,
                                                                       received_at__lt=now - limit))
        ended += overdue.update(state=RequestState.TIMED_OUT, outcome=code, completed_at=now,
                                message="No response within the time allowed.")
    return ended


def batch_finish_if_done(batch_id):
    batch = Batch.objects.filter(pk=batch_id, state=BatchState.RUNNING).first()
    if batch and not ServiceRequest.objects.filter(batch_id=batch_id).open().exists():
        Batch.objects.filter(pk=batch_id, state=BatchState.RUNNING).update(
            state=BatchState.COMPLETED, completed_at=timezone.now())


def advance():
    """The periodic sweep (every minute): recover, hand out checks that died, send what is due,
    collect, time out (sent requests without a response, and critical ones never signed), finish."""
    recovered = recover()
    rechecked = checks_stalled()
    sent = dispatch(budget=40.0)
    collected = collect()
    timed_out = time_out()
    from adapter import services

    unsigned = services.signatures_expire()
    for batch_id in Batch.objects.filter(state=BatchState.RUNNING).values_list("pk", flat=True):
        batch_finish_if_done(batch_id)
    return {"recovered": recovered, "rechecked": rechecked, "sent": sent, "collected": collected,
            "timed_out": timed_out, "unsigned": unsigned}


def batch_sources_purge(now=None):
    """Daily schedule: empty the stored upload (``Batch.source``) of batches that ended (completed, failed,
    cancelled) and were uploaded more than UPLOAD_RETENTION_DAYS ago. Their rows, requests and results
    stay; the file itself was needed only to check the rows, and holds whatever the uploader sent."""
    from adapter.choices import BatchState
    from portal.tasks import retention_cutoff

    ended = (BatchState.COMPLETED, BatchState.FAILED, BatchState.CANCELLED)
    purged = (Batch.objects.filter(state__in=ended, created_at__lt=retention_cutoff(now))
              .exclude(source=b"").update(source=b""))
    if purged:
        log.info("emptied the stored files of %d ended batches", purged)
    return purged


# --- Batch checking ------------------------------------------------------------------------------

CHECK_CHUNK = 1000  # the size of a send chunk: the first one goes out sooner


def parse_batch(batch):
    """The rows of a batch as [(row number, srv, device_id, params, execute_at text, error)]."""
    from portal.tabular import TableError, read_table

    if batch.source_format == "rollout":
        from adapter import rollouts

        return rollouts.wave_rows(batch)  # a rollout's wave: its members, not a file
    data = bytes(batch.source)
    rows = []
    if batch.source_format == "json":
        try:
            items = json.loads(data.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise TableError(f"The JSON cannot be read: {exc}")
        if isinstance(items, dict):
            items = items.get("rows") or items.get("requests") or []
        if not isinstance(items, list) or not items:
            raise TableError("The JSON must be a non-empty list of rows.")
        if len(items) > settings.UPLOAD_MAX_ROWS:
            raise TableError(f"The JSON has {len(items):,} rows; at most {settings.UPLOAD_MAX_ROWS:,} are accepted.")
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                rows.append((number, "", "", {}, "", "row is not an object"))
                continue
            params = item.get("params", item.get("params_json", {}))
            error = ""
            if isinstance(params, str):
                params, error = _params_text(params)
            rows.append((number, str(item.get("srv", "")), str(item.get("device_id", "")), params,
                         str(item.get("execute_at") or ""), error))
        return rows
    table = read_table(data, filename=batch.filename or "batch.csv", required=("srv", "device_id"),
                       optional=("params_json", "execute_at"))
    # A template's parameter columns (services.batch_columns): a cell per parameter, typed by the
    # row's SRV's schema. Most files have none, and then no row pays for them.
    schemas = dict(ServiceRequestVariant.objects.values_list("code", "param_schema"))
    known = {name for param_schema in schemas.values() for name in (param_schema or {}).get("properties", {})}
    columns = [h for h in table.headers if h in known and h not in ("srv", "device_id", "params_json", "execute_at")]
    for number, row in table.rows:
        params, error = _params_text(row.get("params_json", ""))
        if columns and not error:
            error = _param_cells(params, row, columns, schemas.get(row.get("srv", "").strip()) or {})
        rows.append((number, row.get("srv", ""), row.get("device_id", ""), params, row.get("execute_at", ""), error))
    return rows


def _param_cells(params, row, columns, param_schema):
    """Put the row's non-empty parameter cells into ``params`` (typed by the SRV's schema: an integer
    cell becomes a number, a boolean one true or false); returns an error text, or ""."""
    properties = param_schema.get("properties", {})
    for name in columns:
        text = (row.get(name) or "").strip()
        if not text:
            continue
        if name in params:
            return f"{name}: given both in params_json and in its own column"
        kind = properties.get(name, {}).get("type")
        if kind == "integer" and re.fullmatch(r"[+-]?\d{1,18}", text):
            params[name] = int(text)
        elif kind == "boolean" and text.lower() in ("true", "false", "yes", "no", "1", "0"):
            params[name] = text.lower() in ("true", "yes", "1")
        else:
            params[name] = text  # the schema's check names what is wrong with it
    return ""


def _params_text(text):
    text = (text or "").strip()
    if not text:
        return {}, ""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return {}, f"params_json is not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(value, dict):
        return {}, "params_json must be a JSON object, e.g. {\"switch\": 1}"
    return value, ""


def _execute_at(text):
    text = (text or "").strip()
    if not text:
        return None, ""
    from django.utils.dateparse import parse_datetime

    try:
        value = parse_datetime(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None:
        return None, f"execute_at {text!r} is not an ISO date-time such as 2025-01-31T09:30:00Z"
    if timezone.is_naive(value):
        import zoneinfo

        value = value.replace(tzinfo=zoneinfo.ZoneInfo("Europe/London"))  # local time as users type it
    return value, ""


# Two numbers name an advisory lock in PostgreSQL: this one says "checking batch <pk>".
CHECK_LOCK_CLASS = zlib.crc32(b"adapter.batch_check") & 0x7FFFFFFF


@contextmanager
def _checking(batch_pk):
    """True while this worker alone checks the batch. On PostgreSQL a session advisory lock,
    held on this worker's connection: a check handed out twice (the Redis broker loses the tasks
    of a killed worker, so the sweep hands them out again; the ORM broker re-delivers after its
    retry period) runs once at a time, and the lock ends with the connection of a worker that died.
    SQLite serves one machine and has no such lock: there the broker's own hand-over suffices."""
    with _advisory(CHECK_LOCK_CLASS, batch_pk) as mine:
        yield mine


def checks_stalled(now=None):
    """Batches uploaded or being checked for longer than the lease whose check may have died with
    its worker: hand each check out again (a check still running elsewhere holds its lock, so the
    new one returns at once). PostgreSQL only, where the lock tells a live check from a dead one."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0
    from adapter import services

    now = now or timezone.now()
    stalled = list(Batch.objects.filter(state__in=(BatchState.UPLOADED, BatchState.VALIDATING),
                                        created_at__lt=now - dt.timedelta(seconds=lease_seconds()))
                   .values_list("pk", flat=True)[:100])
    for batch_pk in stalled:
        services._enqueue_batch_check(batch_pk)
    return len(stalled)


def batch_check(batch_pk):
    """Check every row of a batch and create its accepted requests, CHECK_CHUNK rows per
    transaction with bulk inserts. Re-running it after a crash continues after the last row stored;
    only one run at a time checks a batch (``_checking``)."""
    with _checking(batch_pk) as mine:
        if mine:
            _batch_check(batch_pk)


def _batch_check(batch_pk):
    from adapter import services
    from portal.tabular import TableError

    batch = Batch.objects.select_related("organisation", "user").get(pk=batch_pk)
    if batch.state in (BatchState.CANCELLED, BatchState.COMPLETED, BatchState.RUNNING, BatchState.AWAITING_APPROVAL,
                       BatchState.DECLINED):
        return
    try:
        originator = services.originator_for(batch.organisation)
        rows = parse_batch(batch)
    except (TableError, services.SubmitRefused) as exc:
        Batch.objects.filter(pk=batch.pk).update(state=BatchState.FAILED, error=str(exc), completed_at=timezone.now())
        return
    done_rows = set(BatchRow.objects.filter(batch=batch).values_list("row", flat=True))
    # Four eyes: known from the row count before the first request is stored, so every request
    # of a held batch is stored awaiting approval and none is sent before a second DCC person says so.
    # (A batch approved before its check, a wave of an approved rollout, has had its four eyes.)
    batch.needs_approval = services.batch_needs_approval(batch.organisation, len(rows)) and batch.approved_at is None
    Batch.objects.filter(pk=batch.pk).update(state=BatchState.VALIDATING, total_rows=len(rows),
                                             needs_approval=batch.needs_approval)
    srvs = {srv.code: srv for srv in services.ServiceRequestVariant.objects.all()}
    checker = services.Checker(batch.organisation)
    pending = [r for r in rows if r[0] not in done_rows]
    for start in range(0, len(pending), CHECK_CHUNK):
        if Batch.objects.filter(pk=batch.pk, state=BatchState.CANCELLED).exists():
            return
        chunk = pending[start:start + CHECK_CHUNK]
        checker.prefetch_devices([r[2] for r in chunk])
        results, accepted = [], []
        for number, code, device_ref, params, execute_text, error in chunk:
            srv = srvs.get(code.strip())
            execute_at, time_error = _execute_at(execute_text)
            if srv is None:
                results.append(BatchRow(batch_id=batch.pk, row=number, srv_code=code[:12], device_ref=device_ref[:40],
                                        code="E40", message=f"srv {code!r} is not a service request variant"))
                continue
            if error or time_error:
                results.append(BatchRow(batch_id=batch.pk, row=number, srv_code=srv.code, device_ref=device_ref[:40],
                                        code="E40", message=f"Invalid parameter {error or time_error}"))
                continue
            check = checker.check(srv, device_ref, params, execute_at)
            row = BatchRow(batch_id=batch.pk, row=number, srv_code=srv.code,
                           device_ref=(check.device_ref or device_ref)[:40],
                           code=("Q" if check.quarantine else "I99") if check.ok else check.code,
                           message=check.message)
            results.append(row)
            if check.ok:
                accepted.append((row, srv, params, execute_at, check))
        with transaction.atomic():
            # Counted against the thresholds here, under the organisation's lock, so that two
            # batches (or a batch and single requests) at once cannot slip past a limit.
            checker.lock_counts()
            for row, srv, _params, _when, check in accepted:
                if checker.count_in(check, srv).quarantine:
                    row.code = "Q"
            first = services.counters_allocate(originator=originator, count=len(accepted)) if accepted else 0
            requests = []
            for offset, (_row, srv, params, execute_at, check) in enumerate(accepted):
                request = services.build_request(
                    checker=checker, srv=srv, user=batch.user, params=params, execute_at=execute_at, check=check,
                    request_id=f"{originator}:{services.target_for(check, srv)}:{first + offset}", batch=batch)
                requests.append(request)
            bulk_insert(ServiceRequest, requests)
            pks = {}
            ids = [r.request_id for r in requests]
            for start_at in range(0, len(ids), 500):
                pks.update(ServiceRequest.objects.filter(request_id__in=ids[start_at:start_at + 500])
                           .values_list("request_id", "pk"))
            for (row, *_rest), request in zip(accepted, requests, strict=True):
                request.pk = pks[request.request_id]
                row.request_id = request.pk
            bulk_insert(BatchRow, results)
            ok = len(accepted)
            Batch.objects.filter(pk=batch.pk).update(
                checked_rows=F("checked_rows") + len(chunk), accepted_rows=F("accepted_rows") + ok,
                rejected_rows=F("rejected_rows") + len(chunk) - ok)
        if ok and _parallel_dispatch() and not batch.needs_approval:
            # Send while the next chunk is checked: the cluster's other worker takes it.
            _enqueue_batch_dispatch(batch.pk)
        quarantined = [r for r in requests if r.state == RequestState.QUARANTINED and r.pk]
        if quarantined:
            services.quarantine_notify(request=quarantined[0])
            ServiceRequest.objects.filter(pk__in=[r.pk for r in quarantined]).update(notified_at=timezone.now())
    if batch.needs_approval:
        # Checked in full; now it waits for a second DCC person (services.batch_approve runs it).
        Batch.objects.filter(pk=batch.pk, state=BatchState.VALIDATING).update(
            state=BatchState.AWAITING_APPROVAL, checked_at=timezone.now())
        return
    updated = Batch.objects.filter(pk=batch.pk, state=BatchState.VALIDATING).update(
        state=BatchState.RUNNING, checked_at=timezone.now())
    if updated:
        # One sender per worker for what is left: they share it through SKIP LOCKED claims.
        for _n in range(int(settings.Q_CLUSTER.get("workers", 1)) if _parallel_dispatch() else 1):
            _enqueue_batch_dispatch(batch.pk)
        batch_finish_if_done(batch.pk)


def _parallel_dispatch():
    """Several dispatch tasks may work one batch at once only where claims skip each other's
    locked rows (PostgreSQL); SQLite has no row locks, so there one task sends a batch."""
    from django.db import connection

    return connection.features.has_select_for_update_skip_locked


def _enqueue_batch_dispatch(batch_pk):
    from django_q.tasks import async_task

    async_task("adapter.tasks.dispatch", batch_id=batch_pk, task_name=f"adapter batch {batch_pk} send",
               group="adapter")




def rollouts_advance():
    """The minute's rollout evaluation (adapter.rollouts.evaluate_all): thresholds, next waves, completion."""
    from adapter import rollouts

    return rollouts.evaluate_all()

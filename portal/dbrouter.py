"""Reading work on a PostgreSQL streaming replica (DATABASE_REPLICA_URL), chosen explicitly.

Nothing is routed by guessing from the model: a read goes to the replica only inside
``reading_from_replica()``, which the views of reports, dashboards, exports and search enter
through the ``replica_reads`` decorator. Everything else, every write, and every read after a
write in the same context ("read your own writes": the context is pinned to the primary from its
first write on) goes to the primary. The request's user and session are read before the context
is entered, so a person who has just logged in is never sent back to the login page by a replica
that has not yet replayed their session.

The replica is used only while it is fresh: at most every REPLICA_CHECK_SECONDS one process asks
it how far behind it is (``pg_last_xact_replay_timestamp``, zero when everything received has been
replayed, and unusable when it no longer streams from the primary). Lag above
REPLICA_MAX_LAG_SECONDS, a replica that does not answer, or a replica that fails in the middle of
a page sends the reads back to the primary; the change is logged once and the page tells DCC
administrators (``replica_status`` context processor, templates/partials/replica_warning.html).
"""
import contextvars
import functools
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

log = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"

# What the replica says about itself: a standby (in recovery), receiving WAL from the primary
# (a walreceiver runs), and the seconds its replay is behind. When every record received has been
# replayed it is up to date however old its last transaction is (an idle primary writes nothing).
LAG_SQL = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL),
       CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""


@dataclass(frozen=True)
class Health:
    """The replica as last checked: usable or not, its lag in seconds, and why not."""

    usable: bool
    lag: float | None = None
    reason: str = ""
    checked_at: float = 0.0


@dataclass
class _Context:
    use_replica: bool
    fallback_reason: str = ""
    pinned: bool = False  # a write happened: the rest of the context reads the primary
    replica_used: bool = False


_context: contextvars.ContextVar[_Context | None] = contextvars.ContextVar("replica_reads", default=None)
_health = Health(usable=False, reason="not checked yet")
_health_lock = threading.Lock()


def configured():
    """True when DATABASE_REPLICA_URL names a replica (settings.DATABASES has the alias)."""
    return REPLICA in settings.DATABASES


def max_lag_seconds():
    return float(getattr(settings, "REPLICA_MAX_LAG_SECONDS", 30))


def check_seconds():
    return float(getattr(settings, "REPLICA_CHECK_SECONDS", 5))


def _measure():
    """Ask the replica how it is (one query on this thread's replica connection)."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, streaming, lag = cursor.fetchone()
    except DatabaseError as exc:
        connections[REPLICA].close()  # a broken connection is not reused by the next check
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Health(False, None, f"the replica does not answer ({first_line})", time.monotonic())
    lag = float(lag)
    if not in_recovery:
        return Health(False, None, "the replica is not a standby any more (promoted?)", time.monotonic())
    if not streaming:
        return Health(False, lag, "the replica is not receiving from the primary", time.monotonic())
    if lag > max_lag_seconds():
        return Health(False, lag, f"the replica is {lag:.1f} s behind (more than {max_lag_seconds():g} s)",
                      time.monotonic())
    return Health(True, lag, "", time.monotonic())


def _record(health):
    global _health
    previous, _health = _health, health
    if previous.usable and not health.usable:
        log.warning("Reads fall back to the primary: %s", health.reason)
    elif not previous.usable and health.usable:
        log.info("Reads return to the replica (lag %.1f s)", health.lag or 0.0)
    elif not health.usable and previous.reason == "not checked yet":
        log.warning("Reads fall back to the primary: %s", health.reason)


def replica_health(force=False):
    """The replica's health, checked at most every REPLICA_CHECK_SECONDS per process (one thread
    checks; the others use the last answer meanwhile)."""
    if not configured():
        return Health(False, None, "no replica configured")
    fresh = _health.checked_at and time.monotonic() - _health.checked_at < check_seconds()
    if fresh and not force:
        return _health
    if not _health_lock.acquire(blocking=False):
        return _health
    try:
        _record(_measure())
    finally:
        _health_lock.release()
    return _health


@contextmanager
def reading_from_replica():
    """Reads inside go to the replica while it is fresh (writes never do). Yields the context's
    state; ``fallback_reason`` says why the primary is read instead, if it is."""
    if not configured():
        state = _Context(use_replica=False)
    else:
        health = replica_health()
        state = _Context(use_replica=health.usable, fallback_reason=health.reason)
    token = _context.set(state)
    try:
        yield state
    finally:
        _context.reset(token)


def replica_reads(view):
    """View decorator: the view's reads come from the replica (reports, dashboards, exports,
    search). A replica that fails during the page is marked down and the page is built again
    from the primary, so the person sees the page, with the warning, instead of an error."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if user is not None:
            # Evaluated now, so the session and the user are read from the primary, before any routing.
            _ = user.is_authenticated
        if not configured() or request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        state = None
        try:
            with reading_from_replica() as state:
                return view(request, *args, **kwargs)
        except DatabaseError as exc:
            if state is None or not state.replica_used or replica_health(force=True).usable:
                raise
            log.warning("A page failed on the replica (%s): built again from the primary", exc)
        with reading_from_replica():  # the health now says "down": every read goes to the primary
            return view(request, *args, **kwargs)

    wrapper.replica_reads = True
    return wrapper


class ReplicaRouter:
    """DATABASE_ROUTERS entry: the replica for reads inside ``reading_from_replica()`` only."""

    def db_for_read(self, model, **hints):
        state = _context.get()
        if state is None or not state.use_replica or state.pinned:
            return PRIMARY
        state.replica_used = True
        return REPLICA

    def db_for_write(self, model, **hints):
        state = _context.get()
        if state is not None:
            state.pinned = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the primary's rows: objects read from either may be related.
        return {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA, None}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None


def replica_status(request):
    """Context processor: ``replica_warning`` for DCC administrators when this page's reads
    should have come from the replica but came from the primary."""
    state = _context.get()
    if state is None or state.use_replica or not state.fallback_reason:
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_dcc_admin:
        return {}
    return {"replica_warning": state.fallback_reason}

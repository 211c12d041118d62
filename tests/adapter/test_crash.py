"""Crash safety: a worker that dies mid-batch loses no request and sends no attempt twice.

How the guarantee is built (adapter/tasks.py):
* ``_claim`` takes due requests with SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL) and, in the
  same transaction, inserts one SendAttempt per request (unique on request and attempt number).
  Only the worker that inserted an attempt sends it, so an attempt is handed over at most once.
* A worker killed mid-chunk leaves its attempts "sending". After ADAPTER_LEASE_SECONDS the
  ``recover`` sweep (part of ``advance``, scheduled every minute) marks them lost and queues the
  request again as the next attempt number, or fails it with E20 after MAX_ATTEMPTS.
* django-q2 hands the dead worker's task out again once its ``retry`` period (Q_CLUSTER: timeout
  + 60 s) has passed. Re-running ``dispatch`` is harmless: it claims only queued requests, and a
  request claimed by someone else is skipped (SKIP LOCKED) or already "sent".
* A worker that outlives its lease (slow, not dead) writes the results only of attempts still
  "sending": the lost one's request has been queued again and only its next attempt's result counts.
"""
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from adapter import services, tasks
from adapter.choices import TERMINAL, AttemptState, RequestState
from adapter.models import Batch, SendAttempt, ServiceRequest

ROOT = Path(__file__).resolve().parents[2]


def test_recover_queues_a_lost_attempt_again_after_the_lease(srvs, devices, supplier_a, settings):
    settings.ADAPTER_LEASE_SECONDS = 30
    request = services.request_submit(user=supplier_a, srv=srvs["4.1.1"], device_id=devices["a_esme"].device_id,
                                      params={})
    assert request.state == RequestState.QUEUED
    claimed = tasks._claim(ids=[request.pk], backend_name="simulator")  # then the worker "dies"
    assert [r.pk for r in claimed] == [request.pk]
    now = timezone.now()
    assert tasks.recover(now=now + timezone.timedelta(seconds=10)) == 0  # within the lease: still its worker's
    assert tasks.recover(now=now + timezone.timedelta(seconds=31)) == 1
    request.refresh_from_db()
    assert request.state == RequestState.QUEUED and request.attempts == 1
    tasks.dispatch(ids=[request.pk])
    request.refresh_from_db()
    assert request.state == RequestState.RESPONDED
    assert list(request.send_attempts.values_list("attempt", "state")) == [(1, "lost"), (2, "done")]


def test_a_stale_sweep_does_not_pull_back_a_request_claimed_again(srvs, devices, supplier_a, settings):
    settings.ADAPTER_LEASE_SECONDS = 1
    request = services.request_submit(user=supplier_a, srv=srvs["4.1.1"], device_id=devices["a_esme"].device_id,
                                      params={})
    tasks._claim(ids=[request.pk], backend_name="simulator")
    later = timezone.now() + timezone.timedelta(seconds=5)
    assert tasks.recover(now=later) == 1
    tasks._claim(ids=[request.pk], backend_name="simulator", now=later)  # attempt 2 in flight
    # the slow worker of attempt 1 finishing late writes nothing: its attempt is no longer its own
    SendAttempt.objects.filter(request=request, attempt=2).update(started_at=later)
    assert tasks.recover(now=later) == 0
    request.refresh_from_db()
    assert request.state == RequestState.SENT and request.attempts == 2


def test_a_batch_check_runs_once_at_a_time_and_a_dead_one_is_handed_out_again(srvs, devices, supplier_a,
                                                                              settings, monkeypatch):
    """The Redis broker loses the tasks a killed worker had taken: the sweep hands the check of a
    batch left unchecked out again, and the advisory lock keeps a check that is still running (on
    a worker cut off for a while) from being run twice."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: advisory locks (SQLite serves one machine with the ORM broker)")
    from django.db import connections

    settings.ADAPTER_LEASE_SECONDS = 30
    queued = []
    monkeypatch.setattr(services, "_enqueue_batch_check", queued.append)
    device = devices["a_esme"].device_id
    batch = services.batch_create(user=supplier_a, data=f"srv,device_id\n4.1.1,{device}\n4.1.1,{device}\n".encode(),
                                  filename="b.csv")
    assert tasks.checks_stalled() == 0  # within the lease: its first check may still be on its way
    later = timezone.now() + timezone.timedelta(seconds=31)
    assert tasks.checks_stalled(now=later) == 1 and queued == [batch.pk]
    other = connections.create_connection("default")  # another worker's session, checking this batch
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [tasks.CHECK_LOCK_CLASS, batch.pk])
        tasks.batch_check(batch.pk)  # handed out twice: this one leaves it to the running check
        assert Batch.objects.get(pk=batch.pk).state == "uploaded"
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [tasks.CHECK_LOCK_CLASS, batch.pk])
    finally:
        other.close()
    tasks.batch_check(batch.pk)
    batch.refresh_from_db()
    assert batch.state in ("running", "completed") and batch.accepted_rows == 2
    assert tasks.checks_stalled(now=later) == 0  # checked: nothing left to hand out
    with connection.cursor() as cursor:  # and this worker's session let go of the lock
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0


def real_clusters(seconds):
    """The marks of a test that runs real qclusters on this test's database: PostgreSQL only, slow,
    at most ``seconds``. Skipped at collection on SQLite, before transactional_db is set up: its
    flush at teardown would empty the data migrations' rows (the SRV catalogue) for the tests that
    follow on the same worker."""
    marks = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(seconds),
             pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="needs PostgreSQL: real clusters share the test database")]

    def mark(test):
        for one in reversed(marks):
            test = one(test)
        return test
    return mark


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: a real qcluster shares the test database only on the PostgreSQL pass")


def _cluster_env(**extra):
    """The environment of a real qcluster sharing this test's database: production settings (the
    tests' settings run tasks synchronously), the ORM broker, the simulator without random failures."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": urllib.parse.urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"])),
        "EMAIL_URL": "locmem://",
        "Q_BROKER": "orm",
        "ADAPTER_BACKEND": "simulator",
        "ADAPTER_SIMULATOR": '{"fail_e20": {"north": 0, "central": 0, "south": 0},'
                             ' "fail_e21": {"north": 0, "central": 0, "south": 0}}',
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }


def _cluster(env, log_path):
    handle = open(log_path, "ab")
    # its own process group: SIGKILL to the group kills sentinel, pusher, workers and monitor at once
    return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=handle,
                            stderr=subprocess.STDOUT, start_new_session=True), handle


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def _sent_lines(path):
    if not path.exists():
        return []
    return [tuple(line.split()[:2]) for line in path.read_text().splitlines() if line.strip()]


def _wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@real_clusters(150)
def test_killed_qcluster_mid_batch_every_request_ends_once(transactional_db, srvs, devices, supplier_a, supa_key,
                                                           tmp_path, monkeypatch):
    _postgres_only()
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    monkeypatch.setattr(Conf, "SYNC", False)  # this process only enqueues; the real clusters run tasks
    send_log = tmp_path / "sent.log"
    env = _cluster_env(
        Q_WORKERS="2", ADAPTER_LEASE_SECONDS="6", ADAPTER_SEND_LOG=str(send_log),
        # a send takes 20 ms so the kill lands mid-chunk; no random failures
        ADAPTER_SIMULATOR='{"send_sleep": 0.02, "fail_e20": {"north": 0, "central": 0, "south": 0},'
                          ' "fail_e21": {"north": 0, "central": 0, "south": 0}}')
    rows = 200
    device = devices["a_esme"].device_id
    lines = ["srv,device_id,params_json,execute_at"]
    lines += [f"7.5,{device},\"{{\"\"switch\"\": 1}}\"," if n % 10 == 0 else f"4.1.1,{device},," for n in range(rows)]
    log_path = tmp_path / "qcluster.log"
    first, handle = _cluster(env, log_path)
    try:
        batch = services.batch_create(user=supplier_a, data=("\n".join(lines) + "\n").encode(), filename="b.csv")
        _wait(lambda: len(_sent_lines(send_log)) >= 30, 60, "the first cluster to send 30 requests")
        _kill(first)
    finally:
        _kill(first)
        handle.close()
    sent_before = _sent_lines(send_log)
    assert len(sent_before) < rows, "the kill came too late to land mid-batch"
    open_after_kill = ServiceRequest.objects.filter(batch=batch).open().count()
    assert open_after_kill > 0
    assert SendAttempt.objects.filter(state=AttemptState.SENDING).exists()
    # The dead worker's dispatch task is still in the broker, locked until its retry period ends;
    # pretend that period has passed so the new cluster receives it again (django-q2's own retry).
    assert OrmQ.objects.exists()
    OrmQ.objects.update(lock=timezone.now() - timezone.timedelta(hours=1))
    # The critical rows (every 10th, 7.5) waited for their signatures: the user signs them now, and
    # the sweep sends them (no urgent cluster runs here, so signing queues nothing of its own).
    from tests.adapter.conftest import sign_precommand

    monkeypatch.setattr(services, "_enqueue_dispatch", lambda ids: None)
    waiting = list(ServiceRequest.objects.filter(batch=batch, state=RequestState.AWAITING_SIGNATURE))
    assert len(waiting) == rows // 10
    for request in waiting:
        services.request_sign(request=request, signature=sign_precommand(supa_key, request.precommand),
                              actor=supplier_a)

    second, handle = _cluster(env, log_path)
    try:
        def finished():
            if not ServiceRequest.objects.filter(batch=batch).open().exists():
                return True
            if not OrmQ.objects.exists():  # the schedule's job: a sweep every so often
                async_task("adapter.tasks.advance", task_name="adapter advance (test sweep)")
            return False

        def completed():
            if Batch.objects.get(pk=batch.pk).state == "completed":
                return True
            if not OrmQ.objects.exists():
                async_task("adapter.tasks.advance", task_name="adapter advance (test sweep)")
            return False

        _wait(finished, 60, "every request of the batch to end")
        _wait(completed, 20, "the batch to complete")
    finally:
        _kill(second)
        handle.close()

    requests = list(ServiceRequest.objects.filter(batch=batch))
    assert len(requests) == rows
    assert all(r.state in TERMINAL and r.completed_at for r in requests)
    assert Counter(r.state for r in requests) == {RequestState.RESPONDED: rows}
    sent = _sent_lines(send_log)
    assert len(sent) == len(set(sent)), "an attempt was handed over twice"
    attempts = {(a.request.request_id, str(a.attempt)): a for a in SendAttempt.objects.select_related("request")}
    assert set(sent) <= set(attempts), "a hand-over without its claimed attempt"
    assert not [a for a in attempts.values() if a.state == AttemptState.SENDING]
    done = Counter(a.request_id for a in attempts.values() if a.state == AttemptState.DONE)
    assert all(done[r.pk] == 1 for r in requests), "a request finished by two attempts"
    # requests the dead cluster had handed over were sent again, as their next attempt
    resent = {rid for rid, number in sent_before}
    assert all((rid, "2") in attempts and attempts[(rid, "1")].state == AttemptState.LOST for rid in resent)
    assert Batch.objects.get(pk=batch.pk).state == "completed"


@real_clusters(90)
def test_single_requests_are_sent_by_the_urgent_cluster_alone(transactional_db, srvs, devices, supplier_a,
                                                              tmp_path, monkeypatch):
    """A single request goes to the urgent cluster's queue: with only that cluster running (the main
    one busy or down) it is still sent at once, and the urgent cluster leaves the main queue alone."""
    _postgres_only()
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    monkeypatch.setattr(Conf, "SYNC", False)
    env = _cluster_env(Q_CLUSTER_NAME=tasks.URGENT_CLUSTER)
    # work for the main cluster, which is not running: the urgent one must not take it
    async_task("adapter.tasks.advance", task_name="main-queue work")
    urgent, handle = _cluster(env, tmp_path / "urgent.log")
    try:
        request = services.request_submit(user=supplier_a, srv=srvs["4.1.1"],
                                          device_id=devices["a_esme"].device_id, params={})
        _wait(lambda: ServiceRequest.objects.get(pk=request.pk).state in TERMINAL, 45,
              "the urgent cluster to send the single request")
        # the request is answered inside the task; the queue entry goes only when the cluster
        # acknowledges it a moment later, so wait for that before stopping the cluster
        _wait(lambda: not OrmQ.objects.filter(key=tasks.URGENT_CLUSTER).exists(), 30,
              "the urgent cluster to acknowledge its task")
    finally:
        _kill(urgent)
        handle.close()
    request.refresh_from_db()
    assert request.state == RequestState.RESPONDED and request.dsp_sent_at is not None
    # the main queue's task is still waiting: the urgent cluster reads only its own queue
    waiting = [(q.key, q.name()) for q in OrmQ.objects.all()]
    assert [name for _key, name in waiting] == ["main-queue work"] and waiting[0][0] != tasks.URGENT_CLUSTER

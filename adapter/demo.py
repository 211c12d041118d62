"""Demo data of the adapter: the catalogue and a month of simulated traffic (requests across SRVs,
suppliers and regions, some failing, and alerts) written by bulk inserts with simulated
timestamps, not by running tasks, so that `make run` stays fast. Idempotent."""
import datetime as dt
import os
import random
import time
import zoneinfo
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from adapter import catalogue, pki, signing, simulator
from adapter.choices import CertificateState, CertificateUsage
from adapter.models import Alert, Certificate, ServiceRequest, ServiceRequestVariant
from adapter.tasks import bulk_insert
from portal.choices import OrganisationKind

LONDON = zoneinfo.ZoneInfo("Europe/London")
REQUESTS = 100_000  # 200,000 took 120 s wall (30 s CPU) on a busy 2-core box: halved to fit make run
DEMO_COUNTER_BASE = 10 ** 12  # demo ids use counters far above anything a user reaches
# Share of traffic by SRV (about 60% meter reads, as on the real network)
MIX = [("4.1.1", 30), ("4.17", 15), ("4.8.1", 10), ("11.2", 5), ("7.4", 8), ("7.5", 5), ("7.6", 4), ("7.12", 2),
       ("6.2.7", 6), ("3.1", 5), ("8.2", 6), ("7.2", 2), ("11.3", 2)]
PARAMS = {"4.17": {"days": 7}, "4.8.1": {"days": 1}, "7.5": {"switch": 1, "duration": 30}, "7.6": {"switch": 1},
          "7.12": {"seconds": 900}, "3.1": {"message": "Your meter will update tonight"},
          "11.3": {"firmware_hash": "5E" * 32}}


def _month_bounds(today):
    """From the first of last month to a few minutes ago: a whole month for the monthly report and the
    statements, and this month so far for the dashboards' month-to-date tiles."""
    first_this = today.replace(day=1)
    last_month_end = first_this - dt.timedelta(days=1)
    start = dt.datetime(last_month_end.year, last_month_end.month, 1, tzinfo=LONDON)
    end = max(timezone.now() - dt.timedelta(minutes=10), dt.datetime(first_this.year, first_this.month, 1,
                                                                     tzinfo=LONDON))
    return start, end


def message_signing(stdout=None):
    """Every demo organisation with a DUIS user id delegates message signing to the portal, and the
    local key store (var/keys, git-ignored) gets test keys and approved certificates for them, DCC
    and the head-end, so every stored demo request renders signed (`manage.py duis render`)."""
    from django.core.management import call_command

    from adapter import services
    from portal.access import people
    from portal.choices import OrganisationKind
    from portal.models import Organisation

    admin = people("dcc_admin").order_by("pk").first()
    if admin is None:
        return
    for organisation in Organisation.objects.exclude(user_id="").exclude(kind=OrganisationKind.DCC):
        services.delegation_grant(organisation=organisation, actor=admin)
    call_command("duis", "keys", "--quiet")
    if stdout:
        stdout.write("adapter: message signing delegated by every demo organisation; keys in the key store")
def demo_key_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo-keys"


def signing_keys(stdout=None) -> list[Path]:
    """Each demo supplier's command-signing key, as a file outside the database (the user's own
    file, as in real life: var/demo-keys/<CODE>-command-signing.key.pem, owner-only, git-ignored
    with var/), and its certificate registered and approved, so a demo user can sign a critical
    request in the browser. A key file kept from an earlier run is reused."""
    from cryptography.hazmat.primitives import serialization

    from portal.models import Organisation

    directory = demo_key_dir()
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    admin = get_user_model()._default_manager.filter(is_superuser=True).order_by("pk").first()
    paths = []
    for organisation in Organisation.objects.filter(kind=OrganisationKind.SERVICE_USER).exclude(user_id=""):
        path = directory / f"{organisation.code}-command-signing.key.pem"
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(pki.private_key_pem(key))
        os.chmod(path, 0o600)
        paths.append(path)
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        now = timezone.now()
        registered = [c for c in signing.signing_certificates(organisation, now)
                      if pki.read_certificate(c.pem).public_key().public_bytes(
                          serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo) == public]
        if registered:
            continue
        _key, info = pki.make_test_identity(organisation.user_id, name=f"{organisation.name} command signing (demo)",
                                            key=key)
        Certificate.objects.create(
            organisation=organisation, usage=CertificateUsage.COMMAND_SIGNING, subject_eui64=info.subject_eui64,
            issuer=info.issuer, serial=info.serial, pem=info.pem, not_before=info.not_before,
            not_after=info.not_after, state=CertificateState.APPROVED, approved_by=admin, approved_at=now)
    if stdout and paths:
        stdout.write(f"adapter: command-signing key files of the demo suppliers in {directory}")
    return paths


QUARANTINE_SRV = "4.18"  # Read Meter Balance: not in the traffic MIX, so its threshold counts only these


def quarantined(stdout=None):
    """A request waiting in quarantine for a DCC operator's decision, made the way a real one is:
    the demo supplier (supa) keeps a threshold of one 4.18 meter-balance read a day and sends two,
    so the second exceeds it (services.request_submit). Skipped when supa's organisation already
    has a quarantined request, or without the demo people (an app's tests load only this app)."""
    from adapter import services
    from adapter.choices import RequestState, ThresholdPeriod
    from inventory.models import Device

    person = get_user_model()._default_manager.filter(username="supa").select_related("organisation").first()
    srv = ServiceRequestVariant.objects.filter(code=QUARANTINE_SRV).first()
    if person is None or person.organisation is None or srv is None:
        return
    organisation = person.organisation
    if ServiceRequest.objects.filter(organisation=organisation, state=RequestState.QUARANTINED).exists():
        return
    device = (Device.objects.filter(supplier=organisation, status="commissioned", device_type__in=srv.device_types)
              .order_by("pk").first())
    if device is None:
        return
    if not organisation.anomaly_thresholds.filter(srv=srv, period=ThresholdPeriod.DAY).exists():
        services.threshold_save(organisation=organisation, srv=srv, period=ThresholdPeriod.DAY, limit=1,
                                actor=person, note="Demo: more than one balance read of a meter a day is unusual")
    for _ in range(2):
        request = services.request_submit(user=person, srv=srv, device_id=device.device_id, params={})
        if request.state == RequestState.QUARANTINED:
            break
    if stdout:
        stdout.write(f"adapter: request {request.request_id} is {request.get_state_display().lower()}, "
                     "waiting for a DCC operator to release or reject it")


ROLLOUT_NAMES = ("Demo: tariff refresh (finished)", "Demo: readings in the south (stopped by its error threshold)",
                 "Demo: auxiliary load activation (waits for approval)")


def rollouts(stdout=None):
    """Three rollouts of the demo supplier (supa), made through the rollout services and run by
    calling the tasks the cluster would run: one finished (every wave done), one paused by its
    error threshold (its southern devices unreachable while it ran: the simulator fails them
    E20), one of a critical SRV frozen and waiting for a second DCC person. Skipped when they
    exist, or without the demo people and devices."""
    from adapter import rollouts as engine
    from adapter import tasks
    from adapter.models import Batch, Rollout
    from inventory.models import Device

    person = get_user_model()._default_manager.filter(username="supa").select_related("organisation").first()
    if person is None or person.organisation is None or not ServiceRequestVariant.objects.filter(code="4.1.1"):
        return
    if Rollout.objects.filter(organisation=person.organisation, name__in=ROLLOUT_NAMES).exists():
        return
    meters = Device.objects.filter(supplier=person.organisation, status="commissioned", device_type="ESME")
    north = list(meters.exclude(region="south").order_by("pk").values_list("device_id", flat=True)[:40])
    south = list(meters.filter(region="south").order_by("pk").values_list("device_id", flat=True)[:20])
    if len(north) < 20 or len(south) < 10:
        return

    def run(rollout):
        # what the cluster does after the commit: check each wave's batch, send it, evaluate
        for _round in range(10):
            for batch_pk in Batch.objects.filter(rollout=rollout, state__in=("uploaded", "validating")).values_list(
                    "pk", flat=True):
                tasks.batch_check(batch_pk)
            for batch_pk in Batch.objects.filter(rollout=rollout, state="running", held=False).values_list(
                    "pk", flat=True):
                tasks.dispatch(batch_id=batch_pk)
            engine.evaluate(rollout.pk)
            if Rollout.objects.get(pk=rollout.pk).state != "running":
                break

    finished = engine.rollout_create(actor=person, name=ROLLOUT_NAMES[0], srv="4.1.1", params={},
                                     waves=engine.parse_waves("10%, 40%, rest", success_threshold=80,
                                                              error_threshold=20),
                                     device_list="\n".join(north[:20]), throttle={"max_per_second": 50})
    engine.rollout_start(rollout=finished, actor=person)
    simulator.configure(fail_e20={"north": 0, "central": 0, "south": 0}, fail_e21={"north": 0, "central": 0,
                                                                                   "south": 0})
    try:
        run(finished)
        stopped = engine.rollout_create(actor=person, name=ROLLOUT_NAMES[1], srv="4.1.1", params={},
                                        waves=engine.parse_waves("10, rest", success_threshold=90, error_threshold=30),
                                        device_list="\n".join(south[:10] + north[20:40]))
        engine.rollout_start(rollout=stopped, actor=person)
        simulator.configure(fail_e20={"south": 1.0})  # a CSP incident in the south while it runs
        run(stopped)
    finally:
        simulator.reset()
    waiting = engine.rollout_create(actor=person, name=ROLLOUT_NAMES[2], srv="7.5",
                                    params=PARAMS["7.5"], waves=engine.parse_waves("5, rest"),
                                    device_list="\n".join(north[:20]), window=("01:00", "05:00"),
                                    throttle={"region_max_per_second": 10})
    engine.rollout_start(rollout=waiting, actor=person)
    if stdout:
        states = ", ".join(Rollout.objects.filter(name__in=ROLLOUT_NAMES).order_by("pk")
                           .values_list("state", flat=True))
        stdout.write(f"adapter: three demo rollouts of {person} ({states})")


def load(stdout=None, requests=REQUESTS):
    from inventory.models import Device
    from portal.models import Organisation

    catalogue.load(ServiceRequestVariant)
    message_signing(stdout)
    signing_keys(stdout)
    quarantined(stdout)
    rollouts(stdout)
    srvs = {s.code: s for s in ServiceRequestVariant.objects.filter(code__in=[c for c, _ in MIX])}
    devices = list(Device.objects.filter(status="commissioned", device_type__in=["ESME", "GSME"],
                                         supplier__kind="service_user").exclude(supplier__user_id="")
                   .values_list("pk", "device_id", "device_type", "supplier_id", "region")[:5000])
    if not devices:
        if stdout:
            stdout.write("adapter: no commissioned meters to send requests to; traffic skipped")
        return
    orgs = {o.pk: o for o in Organisation.objects.filter(pk__in={d[3] for d in devices})}
    start, end = _month_bounds(timezone.localdate())
    first_id = f"{orgs[devices[0][3]].user_id}:{devices[0][1]}:{DEMO_COUNTER_BASE}"
    if ServiceRequest.objects.filter(request_id=first_id).exists():
        if stdout:
            stdout.write("adapter: demo traffic already loaded")
        return
    began = time.monotonic()
    rng = random.Random(2013)
    codes = [c for c, _ in MIX if c in srvs]
    weights = [w for c, w in MIX if c in srvs]
    seconds = (end - start).total_seconds()
    by_type = {}
    for device in devices:
        by_type.setdefault(device[2], []).append(device)
    rows, made = [], 0
    for n in range(requests):
        srv = srvs[rng.choices(codes, weights)[0]]
        pool = [d for t in srv.device_types for d in by_type.get(t, [])] if not srv.non_device else devices
        pool = pool or devices
        device = devices[0] if n == 0 else pool[rng.randrange(len(pool))]
        org = orgs[device[3]]
        received = start + dt.timedelta(seconds=rng.random() * seconds)
        outcome = simulator.simulate(srv_code=srv.code, non_device=srv.non_device, region=device[4], start=received,
                                     rng=rng)
        state = "responded" if outcome.code == "I0" else "failed"
        times = outcome.times
        completed = times.get("responded_at") or received
        if rng.random() < 0.002:  # a few never answer: timed out
            state, outcome.code = "timed_out", "E21"
            times = {k: v for k, v in times.items() if k in ("dsp_sent_at", "wan_delivered_at")}
            completed = received + dt.timedelta(minutes=5)
        rows.append(ServiceRequest(
            request_id=f"{org.user_id}:{device[1]}:{DEMO_COUNTER_BASE + n}",
            srv_id=srv.pk, organisation_id=org.pk, device_id=device[0], device_ref=device[1], region=device[4],
            measurement_type=srv.measurement_type, state=state, outcome=outcome.code, message=outcome.message,
            params=PARAMS.get(srv.code, {}), start_at=received, received_at=received,
            dsp_sent_at=times.get("dsp_sent_at"), wan_delivered_at=times.get("wan_delivered_at"),
            device_responded_at=times.get("device_responded_at"), wan_returned_at=times.get("wan_returned_at"),
            responded_at=times.get("responded_at"), completed_at=completed, attempts=1, response={},
            precommand_at=received if srv.critical else None, signed_at=received if srv.critical else None,
            signature="demo" if srv.critical else ""))
        if len(rows) == 10_000:
            with transaction.atomic():
                bulk_insert(ServiceRequest, rows)
            made += len(rows)
            rows = []
    with transaction.atomic():
        bulk_insert(ServiceRequest, rows)
    made += len(rows)
    alerts = []
    for n in range(min(20_000, requests // 10)):
        device = devices[rng.randrange(len(devices))]
        raised = start + dt.timedelta(seconds=rng.random() * seconds)
        wan = raised + dt.timedelta(seconds=rng.lognormvariate(2.3, 0.6))
        alerts.append(Alert(alert_id=f"DEMO-{n:07d}", alert_code=rng.choice(["0x8F3E", "0x8F3F", "0x8F0C", "0x8F35"]),
                            description="Simulated device alert", organisation_id=device[3], device_id=device[0],
                            region=device[4], raised_at=raised, wan_received_at=wan,
                            delivered_at=wan + dt.timedelta(seconds=rng.lognormvariate(0.0, 0.7)), payload={},
                            created_at=wan))
    with transaction.atomic():
        bulk_insert(Alert, alerts)
    if stdout:
        stdout.write(f"adapter: {made:,} requests and {len(alerts):,} alerts from {start:%d %B %Y} to now "
                     f"in {time.monotonic() - began:.1f} s")

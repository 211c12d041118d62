"""Writes of the adapter app: submitting, quarantining, cancelling and finishing service requests,
batches, alerts and anomaly thresholds.

Submission checks run in DESIGN.md's order and the first failure answers with its DUIS code:
E2 role, E19 device unknown, E4 responsibility, E11 device type, E5 SMI status, E40 parameters
(the portal's code for a request that fails its SRV's parameter schema), then the anomaly
thresholds (quarantine). A valid request is stored with ``received_at`` and answered I99.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from adapter import duis, schema, signing
from adapter.choices import (
    CANCELLABLE,
    OUTCOME_ACKNOWLEDGED,
    OUTCOME_UNSIGNED,
    TERMINAL,
    BatchState,
    CertificateState,
    CertificateUsage,
    MeasurementType,
    RequestState,
    ThresholdChangeState,
    ThresholdPeriod,
)
from adapter.models import (
    Alert,
    AnomalyThreshold,
    Batch,
    Certificate,
    MessageSigningDelegation,
    OriginatorCounter,
    ServiceRequest,
    ServiceRequestVariant,
    SignedDuisDocument,
    ThresholdChange,
    ThresholdFloor,
)
from inventory.choices import SMIStatus
from portal import events
from portal.access import may, people, require
from portal.ids import normalise_eui64
from portal.writes import save_validated

if TYPE_CHECKING:
    from adapter.models import Certificate
    from adapter.pki import CertificateInfo
    from inventory.models import Device
    from portal.models import Organisation, User
    from portal.types import Actor

NON_DEVICE_TARGET = "00-00-00-00-00-00-00-00"
# SMI statuses in which a device takes commands; commissioning SRVs also reach devices not yet
# commissioned.
LIVE_STATUSES = {SMIStatus.COMMISSIONED, SMIStatus.RECOVERED, SMIStatus.NOT_APPLICABLE}
COMMISSIONING_SRVS = {"8.1.1", "8.7.1", "8.7.2", "6.15.1", "6.15.2", "6.17", "6.23", "11.2", "8.9", "8.11"}
COMMISSIONING_STATUSES = LIVE_STATUSES | {SMIStatus.WHITELISTED, SMIStatus.INSTALLED_NOT_COMMISSIONED}
PERIODS: dict[str, dt.timedelta] = {ThresholdPeriod.HOUR: dt.timedelta(hours=1),
                                    ThresholdPeriod.DAY: dt.timedelta(days=1)}
# Two numbers name an advisory lock in PostgreSQL: this one says "counting organisation <pk>'s
# requests against its anomaly thresholds".
THRESHOLD_LOCK_CLASS = 0x41_54_48_52  # "ATHR"
# The fields _release_checked may set, saved by whoever calls it on a stored request.
RELEASE_FIELDS = ["state", "precommand", "precommand_at", "signature", "signed_at", "message"]


class SubmitRefused(Exception):
    """A submission that cannot even be recorded (unknown SRV, malformed or foreign request id)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(Exception):
    """The object is not in a state that allows the action (approve what no longer awaits
    approval): the API answers 409, a page shows the message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Check:
    code: str = OUTCOME_ACKNOWLEDGED
    message: str = ""
    device: Device | None = None
    device_ref: str = ""
    quarantine: bool = False
    # The input at fault, for a form to answer next to it: "device_id", "execute_at" or a parameter's name.
    field: str = ""

    @property
    def ok(self) -> bool:
        return self.code == OUTCOME_ACKNOWLEDGED


def originator_for(organisation: Organisation) -> str:
    """The organisation's DUIS user id, the originator of every request it sends. Never anyone
    else's: an organisation without one cannot send (DCC's own id is DCC's, not a fallback)."""
    if not organisation.user_id:
        raise SubmitRefused("organisation", f"{organisation} has no DUIS user id (EUI-64), so it cannot send "
                            "service requests; DCC must record the organisation's user id first")
    return organisation.user_id


def srv_by_code(code: ServiceRequestVariant | str | None) -> ServiceRequestVariant:
    if isinstance(code, ServiceRequestVariant):
        return code
    srv = ServiceRequestVariant.objects.filter(code=str(code or "").strip()).first()
    if srv is None:
        raise SubmitRefused("srv", f"{code!r} is not a service request variant of the catalogue")
    return srv


# --- Counters ------------------------------------------------------------------------------------

def counters_allocate(*, originator: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive request-id counters for ``originator`` (an organisation's
    DUIS user id: ids are unique per originator, so all its people share one counter); returns
    the first. One upsert statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, on
    PostgreSQL and SQLite alike) creates or bumps the row and reads the new value under the row
    lock, so two processes never get the same counter."""
    if count < 1:
        raise ValueError("count must be at least 1")
    # One literal statement (the table is OriginatorCounter's; a test holds the name): no SQL is
    # ever formatted in this app.
    assert OriginatorCounter._meta.db_table == "adapter_originatorcounter"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO adapter_originatorcounter (originator, value) VALUES (%s, %s) "
            "ON CONFLICT (originator) DO UPDATE SET value = adapter_originatorcounter.value + excluded.value "
            "RETURNING value",
            [originator, count])
        last = cursor.fetchone()[0]
    return int(last) - count + 1


# --- Checks --------------------------------------------------------------------------------------

class Checker:
    """Runs the submission checks for one organisation, with caches so that a batch of 100,000
    rows costs a few queries per chunk rather than several per row."""

    def __init__(self, organisation: Organisation, *, now: dt.datetime | None = None) -> None:
        self.organisation = organisation
        self.now = now or timezone.now()
        self.dcc = organisation.is_dcc  # DCC may send any SRV to any device
        self.roles = set(organisation.duis_roles or [])
        self.devices: dict[str, Device | None] = {}
        self.thresholds = list(AnomalyThreshold.objects.filter(organisation=organisation))
        self.threshold_counts: dict[int, int] | None = None

    def prefetch_devices(self, refs: Iterable[str]) -> None:
        from inventory.models import Device

        canonical = set()
        for ref in refs:
            try:
                canonical.add(normalise_eui64(ref))
            except ValidationError:
                continue
        missing = canonical - set(self.devices)
        for start in range(0, len(missing), 900):
            part = list(missing)[start:start + 900]
            for device in Device.objects.filter(device_id__in=part).only(
                "id", "device_id", "device_type", "status", "supplier_id", "region"
            ):
                self.devices[device.device_id] = device
        for ref in missing:
            self.devices.setdefault(ref, None)

    def device(self, canonical: str) -> Device | None:
        if canonical not in self.devices:
            self.prefetch_devices([canonical])
        return self.devices.get(canonical)

    def check(self, srv: ServiceRequestVariant, device_ref: str | None, params: dict[str, Any],
              execute_at: dt.datetime | None) -> Check:
        # E2: the organisation's DUIS roles against the roles the SRV allows
        if not self.dcc and not (self.roles & set(srv.roles)):
            allowed_roles = ", ".join(srv.roles) or "DCC only"
            mine = ", ".join(sorted(self.roles)) or "none"
            return Check("E2", f"Your roles ({mine}) may not send {srv.code} {srv.name} (allowed: {allowed_roles}).")
        device = None
        ref = (device_ref or "").strip()
        if ref or not srv.non_device:
            # E19: the device must exist
            try:
                canonical = normalise_eui64(ref)
            except ValidationError:
                return Check("E19", f"device id {ref!r} is not an EUI-64, so no such device is known.",
                             device_ref=ref[:40])
            device = self.device(canonical)
            if device is None:
                return Check("E19", f"Device {canonical} is unknown to the Smart Metering Inventory.",
                             device_ref=canonical)
            ref = canonical
            # E4: the organisation must be responsible for the device (DCC may act on any). Asked
            # before E11 and E5, and answered with no device: a refusal about another supplier's
            # device says the same whatever the SRV, and neither its message nor the stored request
            # (device, region) tells the type, region or status of a device the sender may not see.
            if not self.dcc and device.supplier_id != self.organisation.pk:
                return Check("E4", f"Your organisation is not responsible for device {ref}.", None, ref)
            # E11: the SRV must apply to the device type
            if not srv.non_device and device.device_type not in srv.device_types:
                return Check("E11", f"{srv.code} {srv.name} does not apply to a {device.device_type} "
                             f"(applies to: {', '.join(srv.device_types) or 'no device'}).", device, ref)
            # E5: the SMI status must allow it
            allowed = allowed_statuses(srv)
            if not srv.non_device and device.status not in allowed:
                return Check("E5", f"Device {ref} is {device.status.replace('_', ' ')}: {srv.code} needs "
                             f"{' or '.join(sorted(s.replace('_', ' ') for s in allowed))}.", device, ref)
        # Parameters, by the SRV's schema; and the execution time
        try:
            schema.validate(srv.param_schema or {}, params)
        except schema.ParamError as exc:
            return Check("E40", f"Invalid parameter {exc.field}: {exc.message}.", device, ref, field=exc.field)
        if execute_at is not None:
            if not srv.future_datable:
                return Check("E40", f"Invalid parameter execute_at: {srv.code} cannot be future-dated.", device, ref,
                             field="execute_at")
            if execute_at <= self.now:
                return Check("E40", "Invalid parameter execute_at: it must be in the future.", device, ref,
                             field="execute_at")
            if execute_at > self.now + dt.timedelta(days=30):
                return Check("E40", "Invalid parameter execute_at: at most 30 days ahead.", device, ref,
                             field="execute_at")
        # The anomaly thresholds are counted later, by ``count_in`` inside the transaction that
        # stores the request (see ``lock_counts``).
        return Check(OUTCOME_ACKNOWLEDGED, "", device, ref)

    def lock_counts(self) -> None:
        """Make threshold counting exact under concurrency; call inside the transaction that
        stores the requests, before ``count_in``. On PostgreSQL a transaction-level advisory lock
        per organisation serialises the count-then-insert of parallel submissions and batches of
        one organisation (released at commit, when the rows it counted in are visible to the
        next holder, whose fresh READ COMMITTED snapshot then counts them). The counts are then
        read afresh. Organisations without thresholds take no lock. Chosen over counter rows per
        window: the rolling window (the last hour or day) stays exactly what it was, and the cost
        is one lock per transaction (a batch chunk of 1,000 rows takes one). SQLite has one writer
        at a time and serves one machine; there the counts are read afresh only."""
        if not self.thresholds:
            return
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [THRESHOLD_LOCK_CLASS, self.organisation.pk])
        self.threshold_counts = None

    def count_in(self, check: Check, srv: ServiceRequestVariant) -> Check:
        """Count an accepted request against the thresholds: sets ``check.quarantine``."""
        if check.ok:
            check.quarantine = self.over_threshold(srv)
        return check

    def over_threshold(self, srv: ServiceRequestVariant) -> bool:
        """Whether one more request of ``srv`` exceeds a threshold; counts the request in. The
        thresholds of every organisation count, DCC's own included."""
        relevant = [t for t in self.thresholds if t.srv_id in (None, srv.pk)]
        if not relevant:
            return False
        if self.threshold_counts is None:
            self.threshold_counts = {}
            for threshold in self.thresholds:
                qs = ServiceRequest.objects.filter(
                    organisation=self.organisation, received_at__gte=self.now - PERIODS[threshold.period],
                ).exclude(state=RequestState.REJECTED)
                if threshold.srv_id:
                    qs = qs.filter(srv_id=threshold.srv_id)
                self.threshold_counts[threshold.pk] = qs.count()
        over = False
        for threshold in relevant:
            if self.threshold_counts[threshold.pk] >= threshold.limit:
                over = True
            self.threshold_counts[threshold.pk] += 1
        return over


def allowed_statuses(srv: ServiceRequestVariant) -> set[str]:
    """The SMI statuses of a device ``srv`` may be sent to (E5): commissioning SRVs reach devices
    being installed too."""
    return set(COMMISSIONING_STATUSES if srv.code in COMMISSIONING_SRVS else LIVE_STATUSES)


def measurement_type_for(srv: ServiceRequestVariant, execute_at: dt.datetime | None) -> str:
    if execute_at is not None:
        return MeasurementType.FUTURE_DATED
    return srv.measurement_type


def _await_signature(request: ServiceRequest, now: dt.datetime) -> None:
    """A critical SRV stops at its pre-command: the portal renders the DUIS document for the user
    to sign (command variant 4, "transform") and holds the request until the requesting
    organisation's own key signs it (``request_sign``). The portal cannot sign it itself."""
    request.precommand = duis.render_request(
        request_id=request.request_id, srv_code=request.srv.code, srv_name=request.srv.name, params=request.params,
        execute_at=request.execute_at, critical=True, non_device=request.srv.non_device,
    )
    request.precommand_at = now
    request.state = RequestState.AWAITING_SIGNATURE
    request.message = ("Critical command: waiting for your organisation's signature of the pre-command "
                       "(ECDSA P-256, your own key).")


def _release_checked(request: ServiceRequest, now: dt.datetime) -> None:
    """The next state of a request that has passed its checks, its quarantine (if any) and its
    approvals (four eyes): the ONE place that decides it, called on submission, on release from
    quarantine, and on approval of a request or a batch. A critical request not yet signed stops
    at its pre-command for the organisation's own key (``_await_signature``); every other request
    is queued for dispatch. Sets fields only (RELEASE_FIELDS); the caller saves and hands a queued
    request to dispatch."""
    if request.srv.critical and not request.signed_at:
        _await_signature(request, now)
        return
    _queue_or_await_document(request)


def needs_own_document(request: ServiceRequest) -> bool:
    """Whether the request can go out only as a DUIS document its organisation signs itself: the
    duis backend signs with the key store only for DCC and for organisations that delegated
    message signing (adapter.selectors.may_sign_for); anyone else posts its signed document
    (``signed_document_post``) and the portal never signs for it."""
    from adapter.selectors import may_sign_for

    if settings.ADAPTER_BACKEND != "duis":
        return False
    if request.pk and SignedDuisDocument.objects.filter(request_id=request.pk).exists():
        return False
    return not may_sign_for(duis.split_request_id(request.request_id)["originatorId"])


def _queue_or_await_document(request: ServiceRequest) -> None:
    if needs_own_document(request):
        request.state = RequestState.AWAITING_DOCUMENT
        request.message = ("Waiting for your organisation's signed DUIS document (POST it to the request's "
                           "signed-document endpoint): the portal does not sign for you.")
        return
    request.state = RequestState.QUEUED


def needs_approval(request: ServiceRequest) -> bool:
    """Four eyes: whether a request still waits for a second DCC person. A critical request sent
    by DCC staff does until approved; so does every request of a DCC batch held for approval."""
    if request.approved_at is not None:
        return False
    batch = request.batch
    if batch is not None and batch.approved_at is not None:
        return False  # approved as a whole before it was checked (a wave of an approved rollout)
    if request.organisation.is_dcc and request.srv.critical:
        return True
    return batch is not None and batch.needs_approval


def build_request(*, checker: Checker, srv: ServiceRequestVariant, user: User | None, request_id: str,
                  params: dict[str, Any] | None, execute_at: dt.datetime | None, check: Check,
                  batch: Batch | None = None) -> ServiceRequest:
    """An unsaved ServiceRequest in the state its check result gives: rejected, quarantined,
    awaiting approval (four eyes), or what ``_release_checked`` decides."""
    now = checker.now
    device = check.device
    request = ServiceRequest(
        request_id=request_id, srv=srv, organisation=checker.organisation, user=user, device=device,
        device_ref=check.device_ref, region=getattr(device, "region", "") or "",
        measurement_type=measurement_type_for(srv, execute_at), params=params or {}, execute_at=execute_at,
        start_at=execute_at or now, received_at=now, batch=batch,
    )
    if not check.ok:
        request.state = RequestState.REJECTED
        request.outcome = check.code
        request.message = check.message
        request.completed_at = now
        return request
    request.outcome = OUTCOME_ACKNOWLEDGED
    if check.quarantine:
        request.state = RequestState.QUARANTINED
        request.message = "Quarantined: an anomaly threshold of your organisation was exceeded."
    elif needs_approval(request):
        request.state = RequestState.AWAITING_APPROVAL
        request.message = "Awaiting a second DCC person's approval before it is sent."
    else:
        _release_checked(request, now)
    return request


def parse_request_id(request_id: str, organisation: Organisation) -> str:
    try:
        parts = duis.split_request_id(request_id)
    except duis.DuisError as exc:
        raise SubmitRefused("request_id", str(exc))
    try:
        originator = normalise_eui64(parts["originatorId"], "originator")
        target = normalise_eui64(parts["targetId"], "target")
    except ValidationError as exc:
        raise SubmitRefused("request_id", exc.messages[0])
    own = originator_for(organisation)
    if originator != own:
        raise SubmitRefused("request_id", f"the originator {originator} is not your organisation's DUIS user id "
                            f"({own})")
    if not 0 < parts["counter"] < 2 ** 64:
        raise SubmitRefused("request_id", "the counter must be a positive integer below 2^64")
    return f"{originator}:{target}:{parts['counter']}"


def target_for(check: Check, srv: ServiceRequestVariant) -> str:
    return check.device_ref if check.device is not None else (
        check.device_ref if _eui(check.device_ref) else NON_DEVICE_TARGET)


def _eui(value: str) -> bool:
    try:
        normalise_eui64(value)
        return True
    except ValidationError:
        return False


def request_submit(*, user: User, srv: ServiceRequestVariant | str, device_id: str | None,
                   params: dict[str, Any] | None, execute_at: dt.datetime | None = None,
                   request_id: str | None = None) -> ServiceRequest:
    """Check and record one service request (see the module docstring). Returns the stored
    ServiceRequest: rejected with its E-code, quarantined, or queued with I99. A request id that
    was already used returns the stored request (``resubmitted`` set) and sends nothing again."""
    organisation = user.organisation
    if organisation is None:
        raise SubmitRefused("user", "you belong to no organisation, so you cannot send service requests")
    srv = srv_by_code(srv)
    originator = originator_for(organisation)
    params = params if params is not None else {}
    if request_id:
        request_id = parse_request_id(request_id, organisation)
        existing = ServiceRequest.objects.filter(request_id=request_id).select_related("srv").first()
        if existing is not None:
            return _resubmitted(existing, user=user, srv=srv, device_id=device_id, params=params)
    checker = Checker(organisation)
    check = checker.check(srv, device_id, params, execute_at)
    with set_actor(user), transaction.atomic():
        checker.lock_counts()
        checker.count_in(check, srv)
        if not request_id:
            counter = counters_allocate(originator=originator)
            request_id = f"{originator}:{target_for(check, srv)}:{counter}"
        request = build_request(checker=checker, srv=srv, user=user, request_id=request_id, params=params,
                                execute_at=execute_at, check=check)
        request.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError:
            # the same id submitted twice at the same moment: the first one wins
            existing = ServiceRequest.objects.select_related("srv").get(request_id=request_id)
            return _resubmitted(existing, user=user, srv=srv, device_id=device_id, params=params)
        if request.state == RequestState.QUARANTINED:
            quarantine_notify(request=request)
        elif request.state == RequestState.QUEUED and not _held(request):
            transaction.on_commit(lambda: _enqueue_dispatch([request.pk]))
    request.resubmitted = False
    return request


def request_check(*, user: User, srv: ServiceRequestVariant, device_id: str | None, params: dict[str, Any],
                  execute_at: dt.datetime | None = None) -> Check:
    """The checks of ``request_submit`` (E2, E19, E4, E11, E5, parameters), run and stored nowhere:
    the browser's form answers a failure next to the field, keeping what was typed, rather than
    recording a rejected request (the API and batches record them, as DUIS does). For a service
    user, a device of another supplier is answered as an unknown one (E19): the form never tells
    whether another supplier's device exists. Thresholds are not counted here (``request_submit``
    counts them when it stores the request)."""
    if user.organisation is None:
        raise SubmitRefused("user", "you belong to no organisation, so you cannot send service requests")
    checker = Checker(user.organisation)
    check = checker.check(srv, device_id, params, execute_at)
    if check.code in ("E19", "E4", "E11", "E5"):
        check.field = "device_id"
    if not checker.dcc and check.code in ("E19", "E4") and _eui(check.device_ref):
        check.code = "E19"
        check.message = f"No device {check.device_ref} that your organisation may command."
    return check


def _resubmitted(existing: ServiceRequest, *, user: User, srv: ServiceRequestVariant, device_id: str | None,
                 params: dict[str, Any]) -> ServiceRequest:
    """A request id used before. The same person sending the same request again is a no-op
    (the stored request, ``resubmitted`` set; its execution time is the stored one's); anything
    else is a collision, refused naming
    request_id: it never hands back another person's request."""
    same_device = True
    if existing.device_ref or (device_id or "").strip():
        try:
            same_device = normalise_eui64(device_id or "") == existing.device_ref
        except ValidationError:
            same_device = (device_id or "").strip() == existing.device_ref
    same = (existing.user_id == user.pk and existing.organisation_id == user.organisation_id
            and existing.srv_id == srv.pk and same_device and existing.params == params)
    if not same:
        raise SubmitRefused("request_id", f"{existing.request_id} is already the id of another request "
                            "(another SRV, device, parameters or person); choose a new counter")
    existing.resubmitted = True
    return existing


def _held(request: ServiceRequest) -> bool:
    """Future-dated requests with the DSP pattern wait in DSP until their execution time."""
    return request.execute_at is not None and not request.srv.device_holds_future


def _enqueue_dispatch(ids: list[int]) -> None:
    """Send single requests from the urgent cluster's queue, never behind a batch's chunks."""
    from django_q.tasks import async_task

    from adapter.tasks import URGENT_CLUSTER

    async_task("adapter.tasks.dispatch", ids=ids, cluster_name=URGENT_CLUSTER, task_name="adapter dispatch",
               group="adapter", cluster=URGENT_CLUSTER)


def quarantine_notify(*, request: ServiceRequest) -> None:
    recipients = [request.user] if request.user else []
    events.publish(
        "request.quarantined", obj=request, organisation=request.organisation, recipients=recipients,
        summary=f"Service request {request.request_id} quarantined",
        body=(f"{request.srv} to {request.device_ref or 'DCC'} exceeded an anomaly threshold of "
              f"{request.organisation}. DCC operations will release or reject it."),
        url=request.get_absolute_url(),
    )
    now = timezone.now()
    ServiceRequest.objects.filter(pk=request.pk).update(notified_at=now)
    request.notified_at = now


def _decide_quarantined(request: ServiceRequest, actor: Actor, state: str, done: str) -> None:
    """A DCC operator's decision on a quarantined request (only those): its new state, and who decided."""
    if request.state != RequestState.QUARANTINED:
        raise ValidationError({"state": f"only quarantined requests can be {done} (this one is {request.state})"})
    request.state = state
    request.released_by = actor


def request_release(*, request: ServiceRequest, actor: Actor) -> ServiceRequest:
    """A DCC operator lets a quarantined request go on: to the four-eyes approval it still
    needs, else where ``_release_checked`` sends it."""
    with set_actor(actor), transaction.atomic():
        _decide_quarantined(request, actor, RequestState.QUEUED, "released")
        if needs_approval(request):
            request.state = RequestState.AWAITING_APPROVAL
        else:
            _release_checked(request, timezone.now())
        request.full_clean(validate_unique=False)
        request.save(update_fields=[*RELEASE_FIELDS, "released_by"])
        if request.state == RequestState.QUEUED and not _held(request):
            transaction.on_commit(lambda: _enqueue_dispatch([request.pk]))
    return request


# --- Critical commands: the user's signature ------------------------------------------------------

def signature_deadline(request: ServiceRequest) -> dt.datetime | None:
    """When a request awaiting its signature times out (ADAPTER_SIGNATURE_TIMEOUT_MINUTES after
    its pre-command was made)."""
    if request.precommand_at is None:
        return None
    return request.precommand_at + dt.timedelta(minutes=settings.ADAPTER_SIGNATURE_TIMEOUT_MINUTES)


def request_sign(*, request: ServiceRequest, signature: str, actor: Actor,
                 now: dt.datetime | None = None) -> ServiceRequest:
    """Take the user's signature of a critical request's pre-command. A signature that verifies
    (adapter.signing: the organisation's approved command-signing certificate, valid now) is
    stored and the request is queued for sending. One that does not is refused with
    ValidationError on ``signature``; the request keeps waiting and the failed attempt is counted
    (and so in the audit trail with who offered it)."""
    now = now or timezone.now()
    require(actor, "adapter.servicerequest.sign", request)
    failure = ""
    with set_actor(actor), transaction.atomic():
        locked = ServiceRequest.objects.select_for_update(of=("self",)).select_related(
            "srv", "organisation").get(pk=request.pk)
        if locked.state != RequestState.AWAITING_SIGNATURE:
            raise ValidationError({"state": f"only a request awaiting its signature can be signed (this one is "
                                   f"{locked.get_state_display().lower()})"})
        deadline = signature_deadline(locked)
        if deadline is not None and now > deadline:
            raise ValidationError({"signature": "the time to sign this pre-command ended at "
                                   f"{deadline:%Y-%m-%d %H:%M} UTC; submit the request again"})
        try:
            certificate = signing.verifying_certificate(organisation=locked.organisation,
                                                        precommand=locked.precommand, signature=signature, when=now)
        except ValidationError as exc:
            certificate, failure = None, messages_of(exc, "signature")
        if certificate is None:
            failure = failure or _no_verification_message(locked.organisation, now)
            locked.signature_failures += 1
            locked.save(update_fields=["signature_failures"])
        else:
            locked.signature = signature.strip()
            locked.signed_at = now
            locked.message = (f"Signed; the signature verified against certificate {certificate.serial} of "
                              f"{certificate.subject_eui64}.")
            _queue_or_await_document(locked)
            locked.save(update_fields=["signature", "signed_at", "state", "message"])
            if locked.state == RequestState.QUEUED and not _held(locked):
                transaction.on_commit(lambda: _enqueue_dispatch([locked.pk]))
    if failure:
        raise ValidationError({"signature": failure})
    return locked


def messages_of(exc: ValidationError, field: str) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(m for messages in exc.message_dict.values() for m in messages)
    return "; ".join(exc.messages) or f"{field} refused"


def _no_verification_message(organisation: Organisation, now: dt.datetime) -> str:
    if not signing.signing_certificates(organisation, now):
        return (f"{organisation} has no approved command-signing certificate valid now for "
                f"{organisation.user_id or 'its DUIS user id (none set)'}: upload one and have DCC approve it")
    return ("the signature does not verify against your organisation's approved command-signing certificate: "
            "sign the exact UTF-8 bytes of the pre-command (ECDSA P-256, SHA-256) with your organisation's key")


def signatures_expire(*, now: dt.datetime | None = None) -> int:
    """End critical requests whose pre-command was not signed in time: timed out, never sent
    (outcome "S"), so they never reach the network and do not count as DCC's late responses."""
    now = now or timezone.now()
    limit = now - dt.timedelta(minutes=settings.ADAPTER_SIGNATURE_TIMEOUT_MINUTES)
    minutes = settings.ADAPTER_SIGNATURE_TIMEOUT_MINUTES
    unsigned = ServiceRequest.objects.filter(state=RequestState.AWAITING_SIGNATURE, precommand_at__lt=limit).update(
        state=RequestState.TIMED_OUT, outcome=OUTCOME_UNSIGNED, completed_at=now,
        message=f"Not sent: the pre-command was not signed within {minutes} minutes.")
    # A request waiting for its organisation's own signed DUIS document: from its signature (a
    # critical one) or from when it was received.
    waited = Coalesce("signed_at", "received_at")
    undocumented = ServiceRequest.objects.alias(waited_from=waited).filter(
        state=RequestState.AWAITING_DOCUMENT, waited_from__lt=limit).update(
        state=RequestState.TIMED_OUT, outcome=OUTCOME_UNSIGNED, completed_at=now,
        message=f"Not sent: no signed DUIS document arrived within {minutes} minutes.")
    return unsigned + undocumented


def request_reject(*, request: ServiceRequest, actor: Actor) -> ServiceRequest:
    """A DCC operator refuses a quarantined request."""
    with set_actor(actor), transaction.atomic():
        _decide_quarantined(request, actor, RequestState.REJECTED, "rejected")
        request.message = f"Rejected after quarantine by {actor}."
        request.completed_at = timezone.now()
        request.save(update_fields=["state", "released_by", "message", "completed_at"])
    return request


def request_cancel(*, request: ServiceRequest, actor: Actor) -> ServiceRequest:
    """Cancel a request not yet handed to the network."""
    with set_actor(actor), transaction.atomic():
        updated = ServiceRequest.objects.filter(pk=request.pk, state__in=CANCELLABLE).update(
            state=RequestState.CANCELLED, completed_at=timezone.now(), message=f"Cancelled by {actor}.")
        if not updated:
            request.refresh_from_db()
            raise ValidationError({"state": f"a {request.get_state_display().lower()} request can no longer be "
                                   "cancelled"})
    request.refresh_from_db()
    return request


def request_bulk_cancel(*, requests: QuerySet[ServiceRequest], actor: Actor) -> tuple[int, int]:
    """Cancel every request of ``requests`` (the caller has scoped them for change) not yet handed
    to the network, as request_cancel does one; the others are left as they are. Returns
    ``(cancelled, skipped)``."""
    with set_actor(actor), transaction.atomic():
        ids = list(requests.order_by().values_list("pk", flat=True))
        cancelled = ServiceRequest.objects.filter(pk__in=ids, state__in=CANCELLABLE).update(
            state=RequestState.CANCELLED, completed_at=timezone.now(), message=f"Cancelled by {actor}.")
    return cancelled, len(ids) - cancelled


# --- Four eyes: DCC's own critical requests and large batches ------------------------------------

def _second_person(actor: Actor, requester_id: int | None, capability: str, what: str) -> None:
    """Only a DCC person holding ``capability`` decides, and never on their own request: the
    requester is refused here, in the service, whatever page or API asked."""
    if actor is None or not may(actor, capability):
        raise PermissionDenied(f"Only a second DCC person may approve or decline {what}.")
    if requester_id is not None and actor.pk == requester_id:
        raise PermissionDenied(f"You sent {what} yourself: a second DCC person must approve or decline it.")


def _lock_awaiting_approval(request: ServiceRequest) -> ServiceRequest:
    """The request, locked for the second person's decision; a request no longer awaiting
    approval (decided meanwhile, cancelled) is a Conflict."""
    locked = (ServiceRequest.objects.select_for_update(of=("self",))
              .select_related("srv", "organisation", "user").get(pk=request.pk))
    if locked.state != RequestState.AWAITING_APPROVAL:
        raise Conflict("state", f"request {locked.request_id} is {locked.get_state_display().lower()}, "
                       "not awaiting approval")
    return locked


def request_approve(*, request: ServiceRequest, actor: Actor) -> ServiceRequest:
    """A second DCC person approves a request awaiting approval; it goes on as
    ``_release_checked`` decides (a critical one to its pre-command)."""
    _second_person(actor, request.user_id, "adapter.servicerequest.approve", f"request {request.request_id}")
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _lock_awaiting_approval(request)
        locked.approved_by, locked.approved_at = actor, now
        locked.message = f"Approved by {actor} (requested by {locked.user})."
        _release_checked(locked, now)
        locked.save(update_fields=[*RELEASE_FIELDS, "approved_by", "approved_at"])
        if locked.state == RequestState.QUEUED and not _held(locked):
            transaction.on_commit(lambda: _enqueue_dispatch([locked.pk]))
    return locked


def request_decline(*, request: ServiceRequest, actor: Actor) -> ServiceRequest:
    """A second DCC person declines a request awaiting approval: it is rejected, never sent.
    (The requester withdraws their own by cancelling it.)"""
    _second_person(actor, request.user_id, "adapter.servicerequest.approve", f"request {request.request_id}")
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _lock_awaiting_approval(request)
        locked.state, locked.declined_by, locked.declined_at, locked.completed_at = (
            RequestState.REJECTED, actor, now, now)
        locked.message = f"Declined by {actor} (requested by {locked.user})."
        locked.save(update_fields=["state", "declined_by", "declined_at", "completed_at", "message"])
    return locked


def batch_needs_approval(organisation: Organisation, rows: int) -> bool:
    """Four eyes for a batch: DCC's own with more rows than ADAPTER_FOUR_EYES_BATCH_SIZE."""
    return organisation.is_dcc and rows > int(settings.ADAPTER_FOUR_EYES_BATCH_SIZE)


def _locked_batch(batch: Batch) -> Batch:
    locked = Batch.objects.select_for_update(of=("self",)).select_related("organisation", "user").get(pk=batch.pk)
    if locked.state != BatchState.AWAITING_APPROVAL:
        raise Conflict("state", f"batch {locked.pk} is {locked.get_state_display().lower()}, not awaiting approval "
                       "(a batch waits only once all its rows are checked)")
    return locked


def batch_approve(*, batch: Batch, actor: Actor) -> Batch:
    """A second DCC person approves a checked batch held for approval: each request awaiting
    approval goes on as ``_release_checked`` decides, and the batch runs."""
    from adapter.tasks import CHUNK, bulk_set

    _second_person(actor, batch.user_id, "adapter.batch.approve", f"batch {batch.pk}")
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _locked_batch(batch)
        locked.approved_by, locked.approved_at, locked.state = actor, now, BatchState.RUNNING
        locked.save(update_fields=["approved_by", "approved_at", "state"])
        waiting = ServiceRequest.objects.filter(batch=locked, state=RequestState.AWAITING_APPROVAL).select_related(
            "srv").order_by("pk")
        last = 0
        while True:
            chunk = list(waiting.filter(pk__gt=last)[:CHUNK])
            if not chunk:
                break
            for request in chunk:
                request.approved_by, request.approved_at = actor, now
                request.message = ""
                _release_checked(request, now)
            bulk_set(ServiceRequest, chunk, [*RELEASE_FIELDS, "approved_by", "approved_at"])
            last = chunk[-1].pk
        transaction.on_commit(lambda: _enqueue_batch_run(locked.pk))
    return locked


def _enqueue_batch_run(batch_pk: int) -> None:
    from adapter import tasks

    for _n in range(int(settings.Q_CLUSTER.get("workers", 1)) if tasks._parallel_dispatch() else 1):
        tasks._enqueue_batch_dispatch(batch_pk)
    tasks.batch_finish_if_done(batch_pk)


def batch_decline(*, batch: Batch, actor: Actor) -> Batch:
    """A second DCC person declines a batch held for approval: none of its requests is sent."""
    _second_person(actor, batch.user_id, "adapter.batch.approve", f"batch {batch.pk}")
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _locked_batch(batch)
        locked.declined_by, locked.declined_at, locked.state, locked.completed_at = (
            actor, now, BatchState.DECLINED, now)
        locked.save(update_fields=["declined_by", "declined_at", "state", "completed_at"])
        ServiceRequest.objects.filter(batch=locked, state__in=CANCELLABLE).update(
            state=RequestState.REJECTED, completed_at=now, declined_by=actor, declined_at=now,
            message=f"Batch declined by {actor} (requested by {locked.user}).")
    return locked


# --- Anomaly thresholds --------------------------------------------------------------------------

# Floors (ThresholdFloor): DCC sets, per organisation, SRV (or all) and period, the loosest limit
# the organisation may set on its own. A service user's change that tightens a threshold, or
# loosens it no further than the floor, applies at once; one that raises a floored threshold's
# limit above the floor, or deletes a floored threshold, becomes a pending ThresholdChange that a
# DCC person approves (then applied) or declines. A floored threshold cannot be moved to another
# SRV or period (that would delete it under the floor): add a new one instead. Setting a floor
# tightens the organisation's threshold to it at once when there is none or a looser one (a floor
# over no threshold would bound nothing). DCC staff's own changes apply at once: they are DCC's
# approval.

def _floor(organisation: Organisation, srv: ServiceRequestVariant | None, period: str) -> ThresholdFloor | None:
    return ThresholdFloor.objects.filter(organisation=organisation, srv=srv, period=period).first()


def _dcc_decides(actor: Actor) -> bool:
    return may(actor, "adapter.thresholdfloor.set")


def threshold_save(*, organisation: Organisation, srv: ServiceRequestVariant | None, period: str, limit: int,
                   actor: Actor, note: str = "",
                   threshold: AnomalyThreshold | None = None) -> AnomalyThreshold | ThresholdChange:
    """Set a threshold. Returns the threshold, or the pending ThresholdChange when it would go
    looser than DCC's floor (see the floors' comment above)."""
    with set_actor(actor), transaction.atomic():
        if not _dcc_decides(actor):
            if threshold is not None and (threshold.srv_id, threshold.period) != (getattr(srv, "pk", None), period) \
                    and _floor(organisation, threshold.srv, threshold.period) is not None:
                raise ValidationError({"srv": "this threshold is under a DCC floor, so it cannot be moved to another "
                                       "SRV or period; add a new threshold instead"})
            floor = _floor(organisation, srv, period)
            if floor is not None and limit > floor.limit:
                return _change_request(organisation=organisation, threshold=threshold, srv=srv, period=period,
                                       limit=limit, note=note, actor=actor)
        return save_validated(threshold or AnomalyThreshold(organisation=organisation), srv=srv, period=period,
                              limit=limit, note=note)


def threshold_delete(*, threshold: AnomalyThreshold, actor: Actor) -> ThresholdChange | None:
    """Delete a threshold; under a DCC floor (and not by DCC) it becomes a pending change."""
    with set_actor(actor), transaction.atomic():
        if not _dcc_decides(actor) and _floor(threshold.organisation, threshold.srv, threshold.period) is not None:
            return _change_request(organisation=threshold.organisation, threshold=threshold, srv=threshold.srv,
                                   period=threshold.period, limit=None, note=threshold.note, actor=actor)
        threshold.delete()
    return None


def _change_request(*, organisation: Organisation, threshold: AnomalyThreshold | None,
                    srv: ServiceRequestVariant | None, period: str, limit: int | None, note: str,
                    actor: Actor) -> ThresholdChange:
    change = save_validated(ThresholdChange(organisation=organisation, requested_by=actor), threshold=threshold,
                            srv=srv, period=period, limit=limit, note=note)
    events.publish(
        "threshold.change_requested", obj=change, organisation=organisation,
        recipients=list(people("dcc").exclude(email="")),
        summary=f"{organisation}: threshold change awaits DCC approval",
        body=f"{actor} asked to {'delete' if limit is None else 'loosen'} a floored threshold ({change}).",
        url="/adapter/approvals/",
    )
    return change


def threshold_floor_set(*, organisation: Organisation, srv: ServiceRequestVariant | None, period: str, limit: int,
                        actor: Actor) -> ThresholdFloor:
    """DCC sets the loosest limit ``organisation`` may set on its own (and tightens its threshold
    to the floor at once when it has none or a looser one)."""
    if not _dcc_decides(actor):
        raise PermissionDenied("Only DCC sets threshold floors.")
    with set_actor(actor), transaction.atomic():
        floor = save_validated(_floor(organisation, srv, period) or ThresholdFloor(organisation=organisation),
                               srv=srv, period=period, limit=limit, set_by=actor)
        current = AnomalyThreshold.objects.filter(organisation=organisation, srv=srv, period=period).first()
        if current is None or current.limit > limit:
            save_validated(current or AnomalyThreshold(organisation=organisation, note="DCC floor"), srv=srv,
                           period=period, limit=limit)
    return floor


def threshold_floor_delete(*, floor: ThresholdFloor, actor: Actor) -> None:
    if not _dcc_decides(actor):
        raise PermissionDenied("Only DCC removes threshold floors.")
    with set_actor(actor), transaction.atomic():
        floor.delete()


def threshold_change_decide(*, change: ThresholdChange, actor: Actor, approve: bool) -> ThresholdChange:
    """A DCC person approves (applies) or declines a pending threshold change; never the person
    who asked for it."""
    _second_person(actor, change.requested_by_id, "adapter.thresholdchange.decide", "this threshold change")
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = ThresholdChange.objects.select_for_update(of=("self",)).select_related("organisation", "srv").get(
            pk=change.pk)
        if locked.state != ThresholdChangeState.PENDING:
            raise Conflict("state", f"this threshold change is already {locked.get_state_display().lower()}")
        if approve:
            current = locked.threshold or AnomalyThreshold.objects.filter(
                organisation=locked.organisation, srv=locked.srv, period=locked.period).first()
            if locked.limit is None:
                if current is not None:
                    current.delete()
                locked.threshold = None  # gone (the database set it null on delete)
            else:
                save_validated(current or AnomalyThreshold(organisation=locked.organisation), srv=locked.srv,
                               period=locked.period, limit=locked.limit, note=locked.note)
        locked.state = ThresholdChangeState.APPROVED if approve else ThresholdChangeState.DECLINED
        locked.decided_by, locked.decided_at = actor, now
        locked.save(update_fields=["state", "decided_by", "decided_at", "threshold"])
    return locked


# --- Alerts --------------------------------------------------------------------------------------

def alert_receive(*, alert_id: str, alert_code: str, device_id: str = "", organisation: Organisation | None = None,
                  raised_at: dt.datetime, wan_received_at: dt.datetime | None = None, description: str = "",
                  payload: dict[str, Any] | None = None) -> Alert:
    """Store an alert from a device or DCC and forward it to the service user responsible (the
    device's supplier unless another organisation is named). Idempotent by alert id."""
    from inventory.selectors import device_by_any_id

    existing = Alert.objects.filter(alert_id=alert_id).first()
    if existing is not None:
        return existing
    device = device_by_any_id(device_id) if device_id else None
    if device_id and device is None:
        raise ValidationError({"device_id": f"device {device_id!r} is unknown"})
    organisation = organisation or (device.supplier if device else None)
    if organisation is None:
        raise ValidationError({"organisation": "an alert without a device must name the organisation"})
    with transaction.atomic():
        alert = Alert(alert_id=alert_id, alert_code=alert_code, description=description, organisation=organisation,
                      device=device, region=getattr(device, "region", ""), raised_at=raised_at,
                      wan_received_at=wan_received_at or timezone.now(), payload=payload or {})
        alert.full_clean()
        alert.save()
        transaction.on_commit(lambda: alert_forward(alert=alert))
    return alert


def alert_forward(*, alert: Alert) -> None:
    """Forward to the organisation: its webhooks and watchers through portal.events, e-mail to
    its service-user staff; then record delivery."""
    recipients = list(people("service_user").filter(organisation=alert.organisation).exclude(email=""))
    events.publish(
        "alert.received", obj=alert, organisation=alert.organisation, recipients=recipients,
        summary=f"Alert {alert.alert_code} from {alert.device.device_id if alert.device else 'DCC'}",
        body=alert.description or alert.alert_code, url="/adapter/alerts/",
        payload={"alert_id": alert.alert_id, "alert_code": alert.alert_code,
                 "device_id": alert.device.device_id if alert.device else None,
                 "raised_at": alert.raised_at.isoformat()},
    )
    Alert.objects.filter(pk=alert.pk, delivered_at__isnull=True).update(delivered_at=timezone.now())


# --- Batches -------------------------------------------------------------------------------------

def batch_create(*, user: User, data: bytes, filename: str = "", name: str = "") -> Batch:
    """Store an uploaded batch and start checking it in the background; returns at once."""
    if user.organisation is None:
        raise ValidationError({"file": "you belong to no organisation"})
    try:
        originator_for(user.organisation)
    except SubmitRefused as exc:
        raise ValidationError({exc.field: exc.message})
    lowered = (filename or "").lower()
    text_start = data.lstrip()[:1]
    fmt = "json" if lowered.endswith(".json") or text_start in (b"[", b"{") else "csv"
    if not data.strip():
        raise ValidationError({"file": "The file is empty."})
    _check_batch_source(data, filename=filename, fmt=fmt)
    if fmt == "csv":
        batch_header_check(data, filename=filename)
    with set_actor(user), transaction.atomic():
        batch = Batch(organisation=user.organisation, user=user, name=name or filename or "", filename=filename,
                      source=data, source_format=fmt)
        batch.full_clean(exclude=["source"])
        batch.save()
        transaction.on_commit(lambda: _enqueue_batch_check(batch.pk))
    return batch


def _check_batch_source(data: bytes, *, filename: str, fmt: str) -> None:
    """The upload limits of every table (portal.tabular.check_upload: bytes, a workbook's unpacked size),
    and for JSON rows their number, checked before the batch is stored: a page, the API's file and the
    API's JSON rows all meet the same limits. A file's rows are counted again as it is read."""
    from django.conf import settings

    from portal.tabular import TableError, check_upload

    try:
        check_upload(data, filename=filename or "batch")
    except TableError as exc:
        raise ValidationError({"file": str(exc)}) from None
    if fmt == "json":
        # Counting the top-level items needs the parse the check task does anyway; a cheap bound
        # first: every row is an object, so there are at least as many "{" as rows.
        if data.count(b"{") > settings.UPLOAD_MAX_ROWS + 1:
            import json

            try:
                items = json.loads(data.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                return  # the check task says what is wrong with it
            rows = (items.get("rows") or items.get("requests") or []) if isinstance(items, dict) else items
            if isinstance(rows, list) and len(rows) > settings.UPLOAD_MAX_ROWS:
                raise ValidationError({"file": f"{filename or 'the batch'}: {len(rows):,} rows; at most "
                                               f"{settings.UPLOAD_MAX_ROWS:,} are accepted (UPLOAD_MAX_ROWS)."})


# The columns of a batch file besides the parameters of its SRVs (batch_columns).
BATCH_REQUIRED = ("srv", "device_id")
BATCH_OPTIONAL = ("params_json", "execute_at")


def batch_parameter_names() -> set[str]:
    """Every parameter some SRV of the catalogue takes: each may be a column of a batch file."""
    names: set[str] = set()
    for param_schema in ServiceRequestVariant.objects.values_list("param_schema", flat=True):
        names.update((param_schema or {}).get("properties", {}))
    return names


def batch_columns(srv: ServiceRequestVariant) -> list[str]:
    """The header row of ``srv``'s batch template: srv and device_id, then its parameters in its
    schema's order (a cell each, rather than params_json), then execute_at where it may be
    future-dated."""
    columns = [*BATCH_REQUIRED, *(srv.param_schema or {}).get("properties", {})]
    return [*columns, "execute_at"] if srv.future_datable else columns


def batch_header_check(data: bytes, *, filename: str = "") -> None:
    """Refuse, at once and before anything is stored, a batch file whose header row lacks srv or
    device_id or names a column no batch takes, naming those columns (the rows are read later)."""
    from portal.tabular import TableError, read_headers

    try:
        headers = read_headers(data, filename=filename or "batch.csv")
    except TableError as exc:
        raise ValidationError({"file": str(exc)}) from None
    shown = f"{filename}: " if filename else ""
    known = {*BATCH_REQUIRED, *BATCH_OPTIONAL} | batch_parameter_names()
    named = [h for h in headers if h]
    problems = []
    missing = [c for c in BATCH_REQUIRED if c not in named]
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    unknown = [h[:40] for h in named if h not in known][:20]
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    twice = sorted({h[:40] for h in named if named.count(h) > 1})[:20]
    if twice:
        problems.append(f"column{'s' if len(twice) > 1 else ''} {', '.join(twice)} given more than once")
    if problems:
        raise ValidationError({"file": f"{shown}{'; '.join(problems)}. A batch file's header row names srv, "
                                       "device_id, optionally params_json and execute_at, and the parameters of "
                                       "its SRVs (download an SRV's template for its columns). Nothing was "
                                       "uploaded."})


def _enqueue_batch_check(batch_pk: int) -> None:
    from django_q.tasks import async_task

    async_task("adapter.tasks.batch_check", batch_pk, task_name=f"adapter batch {batch_pk} check", group="adapter")


def batch_cancel(*, batch: Batch, actor: Actor) -> Batch:
    """Cancel the batch: rows not yet checked are dropped, requests not yet sent are cancelled."""
    from adapter.choices import BatchState

    with set_actor(actor), transaction.atomic():
        now = timezone.now()
        Batch.objects.filter(pk=batch.pk).update(state=BatchState.CANCELLED, cancelled_at=now)
        ServiceRequest.objects.filter(batch=batch, state__in=CANCELLABLE).update(
            state=RequestState.CANCELLED, completed_at=now, message=f"Batch cancelled by {actor}.")
    batch.refresh_from_db()
    return batch


def batch_state_counts(batch: Batch) -> dict[str, int]:
    counts = dict(ServiceRequest.objects.filter(batch=batch).values_list("state").annotate(n=Count("id")))
    return counts


def batch_progress(batch: Batch) -> tuple[int, int, dict[str, int]]:
    """(done, total, counts): requests in a terminal state against rows accepted."""
    counts = batch_state_counts(batch)
    done = sum(n for state, n in counts.items() if state in TERMINAL)
    return done, batch.accepted_rows, counts


@dataclass
class RowIn:
    row: int
    srv: str
    device_id: str
    params: object
    execute_at: object
    error: str = ""
    extra: dict = field(default_factory=dict)


# --- DUIS message signing: delegation and service users' own signed documents ---------------------

def delegation_grant(*, organisation: Organisation, actor: User) -> MessageSigningDelegation:
    """Record that ``organisation`` lets the portal sign its DUIS messages (with the key the key
    store holds for its DUIS user id). Granting twice keeps the one active delegation."""
    from portal.access import require

    require(actor, "adapter.messagesigningdelegation.manage")
    if not organisation.user_id:
        raise ValidationError({"organisation": f"{organisation} has no DUIS user id to sign as"})
    with set_actor(actor), transaction.atomic():
        active = (MessageSigningDelegation.objects.select_for_update()
                  .filter(organisation=organisation, revoked_at__isnull=True).first())
        if active is not None:
            return active
        return MessageSigningDelegation.objects.create(organisation=organisation, granted_by=actor,
                                                       granted_at=timezone.now())


def delegation_revoke(*, organisation: Organisation, actor: User) -> MessageSigningDelegation:
    """End the organisation's delegation: from now on the portal signs nothing for it."""
    from portal.access import require

    require(actor, "adapter.messagesigningdelegation.manage")
    with set_actor(actor), transaction.atomic():
        active = (MessageSigningDelegation.objects.select_for_update()
                  .filter(organisation=organisation, revoked_at__isnull=True).first())
        if active is None:
            raise ValidationError({"organisation": f"{organisation} has not delegated message signing"})
        active.revoked_at, active.revoked_by = timezone.now(), actor
        active.save(update_fields=["revoked_at", "revoked_by"])
        return active


def signed_document_post(*, request: ServiceRequest, document: bytes, actor: User) -> SignedDuisDocument:
    """Keep a DUIS document the request's organisation signed itself, after verifying it: signed by
    the organisation's approved message-signing certificate (its DUIS user id as subject), and
    saying exactly what the stored request says (same RequestID and SRV). The backend sends these
    bytes as they are. Only a request not yet handed to the network takes one."""
    from adapter import xmlsig
    from portal.access import require

    require(actor, "adapter.servicerequest.post_signed_document", request)
    if request.state not in CANCELLABLE:
        raise ValidationError({"document": f"a {request.get_state_display().lower()} request is already on its "
                               "way; a signed document is taken only before it is sent"})
    originator = duis.split_request_id(request.request_id)["originatorId"]
    try:
        verified = xmlsig.verify_document(document, usage="message_signing", subject=originator)
        parsed = duis.parse(verified.signed)
    except (xmlsig.SignatureError, duis.DuisError) as exc:
        raise ValidationError({"document": str(exc)}) from None
    ids = parsed["header"]["requestId"]
    if parsed["kind"] != "request" or f"{ids['originatorId']}:{ids['targetId']}:{ids['counter']}" != \
            request.request_id:
        raise ValidationError({"document": f"the document's RequestID is not {request.request_id}"})
    if parsed["header"].get("serviceReferenceVariant") != request.srv.code:
        raise ValidationError({"document": f"the document is not service request variant {request.srv.code}"})
    with set_actor(actor), transaction.atomic():
        SignedDuisDocument.objects.filter(request=request).delete()
        kept = SignedDuisDocument.objects.create(request=request, document=bytes(document),
                                                 certificate=verified.certificate, posted_by=actor)
        # A request that waited for this document goes on now (the same path as any queued request).
        if ServiceRequest.objects.filter(pk=request.pk, state=RequestState.AWAITING_DOCUMENT).update(
                state=RequestState.QUEUED, message="Your signed DUIS document verified; it is sent as it is."):
            if not _held(request):
                transaction.on_commit(lambda: _enqueue_dispatch([request.pk]))
        return kept


def keystore_identities() -> list[tuple[str, Organisation | None, str]]:
    """(EUI-64, organisation, usage) of every identity the portal's key store should hold a key for:
    DCC's own DUIS user ids, the service users that delegated message signing, and the head-end."""
    from django.conf import settings

    from portal.access import is_dcc_organisation
    from portal.models import Organisation

    identities: dict[str, tuple[str, Organisation | None, str]] = {}
    for organisation in Organisation.objects.exclude(user_id="").order_by("pk"):
        delegated = MessageSigningDelegation.objects.filter(organisation=organisation,
                                                            revoked_at__isnull=True).exists()
        if is_dcc_organisation(organisation) or delegated:
            identities.setdefault(organisation.user_id, (organisation.user_id, organisation, "message_signing"))
    identities[settings.ADAPTER_HEADEND_ID] = (settings.ADAPTER_HEADEND_ID, None, "headend")
    return list(identities.values())


def keystore_certificate_register(*, info: CertificateInfo, organisation: Organisation | None, usage: str,
                                  actor: User | None = None) -> Certificate:
    """Record, approved, the certificate of a key the portal's own key store made (``manage.py duis
    keys``): the portal made the key pair itself, so there is no one else's upload to wait for."""
    from adapter.choices import CertificateState
    from adapter.models import Certificate

    with set_actor(actor), transaction.atomic():
        certificate, _created = Certificate.objects.get_or_create(
            issuer=info.issuer, serial=info.serial,
            defaults={"organisation": organisation, "usage": usage, "subject_eui64": info.subject_eui64,
                      "pem": info.pem, "not_before": info.not_before, "not_after": info.not_after,
                      "state": CertificateState.APPROVED, "approved_at": timezone.now(), "approved_by": actor})
        return certificate
# --- Certificates of critical-command signing -----------------------------------------------------

PRIVATE_KEY_REFUSED = ("certificate: this file holds a PRIVATE KEY. Never upload your key: it stays with you, and "
                       "the portal takes only the certificate (-----BEGIN CERTIFICATE-----). Treat this key as "
                       "exposed if you sent it anywhere else.")


def _holds_private_key(data: bytes) -> bool:
    """Whether an upload is or contains a private key (PEM of any kind, or a DER key)."""
    if b"PRIVATE KEY" in data.upper():
        return True
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    try:
        load_der_private_key(data, password=None)
    except (ValueError, TypeError):
        return False  # TypeError: an encrypted DER key, which is still a key, but then not readable as one
    return True


def certificate_upload(*, organisation: Organisation, pem: str | bytes, actor: Actor,
                       usage: str = CertificateUsage.COMMAND_SIGNING) -> Certificate:
    """Register an organisation's certificate (its public key) for signing critical pre-commands,
    pending DCC's approval. Refused, naming the field: anything holding a private key, a file that
    is not one ECDSA P-256 certificate, a subject that is not the organisation's DUIS user id, one
    already expired or already registered."""
    from adapter.pki import read_certificate

    require(actor, "adapter.certificate.upload")
    if actor is None or not (actor.is_dcc or actor.organisation_id == organisation.pk):
        raise PermissionDenied("You may register certificates of your own organisation only.")
    data = pem.encode("utf-8", "replace") if isinstance(pem, str) else bytes(pem)
    if _holds_private_key(data):
        raise ValidationError({"certificate": PRIVATE_KEY_REFUSED})
    try:
        info = read_certificate(data, "certificate")
    except ValidationError as exc:
        raise ValidationError({"certificate": exc.messages})
    if not organisation.user_id:
        raise ValidationError({"certificate": f"{organisation} has no DUIS user id, so no certificate can name it"})
    expected = normalise_eui64(organisation.user_id)
    if info.subject_eui64 != expected:
        raise ValidationError({"certificate": f"its subject EUI-64 {info.subject_eui64} is not {organisation}'s "
                               f"DUIS user id {expected}"})
    if info.not_after <= timezone.now():
        raise ValidationError({"certificate": f"it expired on {info.not_after:%Y-%m-%d}"})
    if Certificate.objects.filter(issuer=info.issuer, serial=info.serial).exists():
        raise ValidationError({"certificate": f"a certificate with serial {info.serial} of this issuer is already "
                               "registered"})
    with set_actor(actor), transaction.atomic():
        return save_validated(
            Certificate(organisation=organisation, usage=usage), subject_eui64=info.subject_eui64,
            issuer=info.issuer, serial=info.serial, pem=info.pem, not_before=info.not_before,
            not_after=info.not_after, state=CertificateState.PENDING, uploaded_by=actor)


def certificate_approve(*, certificate: Certificate, actor: Actor) -> Certificate:
    """A DCC administrator approves a pending certificate: from now its key's signatures verify.
    Saved (not a queryset update) so that the audit trail records the change and who made it."""
    require(actor, "adapter.certificate.approve", certificate)
    with set_actor(actor), transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.state != CertificateState.PENDING:
            raise ValidationError({"state": f"only a certificate awaiting approval can be approved (this one is "
                                   f"{locked.get_state_display().lower()})"})
        locked.state, locked.approved_by, locked.approved_at = CertificateState.APPROVED, actor, timezone.now()
        locked.save(update_fields=["state", "approved_by", "approved_at"])
    return locked


def certificate_revoke(*, certificate: Certificate, actor: Actor) -> Certificate:
    """The organisation or DCC revokes a certificate: its key's signatures no longer verify, and
    requests signed with it but not yet sent are stopped at dispatch."""
    require(actor, "adapter.certificate.revoke", certificate)
    with set_actor(actor), transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.state == CertificateState.REVOKED:
            raise ValidationError({"state": "this certificate is already revoked"})
        locked.state, locked.revoked_at = CertificateState.REVOKED, timezone.now()
        locked.save(update_fields=["state", "revoked_at"])
    return locked

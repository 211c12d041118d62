"""Rollouts: one SRV sent to a whole population of devices in waves, on the ordinary batch path.

A rollout is drawn up (draft) with its SRV and parameters (validated once against the SRV's
schema), its population (an uploaded list of device ids, or a saved filter of the device
register) and its waves (a number of devices or a percentage each; the last takes the rest).
Starting it freezes the population into RolloutMember rows and starts the first wave.

A wave is a Batch whose rows are the wave's members (``wave_rows``, read by the batch check in
place of a file): every row is checked, counted, held for four eyes or a signature, and sent
exactly as a batch's row is. One engine, not a second one.

``evaluate`` (every minute, and at once after each dispatch task of a wave's batch) looks at the
TERMINAL outcomes of each running wave:

- failures (failed, timed out, rejected, refused at the check) at or over the wave's error
  threshold: the rollout pauses itself (the emergency stop). A paused rollout holds its batches
  (``Batch.held``): dispatch claims none of their requests; requests already handed over finish.
- answered I0 at or over the wave's success threshold: the next wave starts by itself, or (the
  wave's ``auto_advance`` off) waits, ready, for a person to start it. The wave's stragglers go on.
- a wave that ended below its success threshold pauses the rollout for a person to decide; a
  person who resumes accepts what has happened so far (``acknowledged_failures``).

Shares are of the wave's size (its members), so a threshold is crossed as soon as enough outcomes
are in, without waiting for the rest. Every change of state is a RolloutEvent (who, when, from,
to, why) and an event published through portal.events.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from adapter import failures, pacing, schema, services, tasks
from adapter.choices import (
    ENDED_ROLLOUT_STATES,
    LIVE_ROLLOUT_STATES,
    OUTCOME_ACKNOWLEDGED,
    OUTCOME_SUCCESS,
    TERMINAL,
    BatchState,
    PopulationSource,
    RequestState,
    RolloutState,
    WaveSizeKind,
    WaveState,
)
from adapter.models import (
    PACING_FIELDS,
    Batch,
    BatchRow,
    Rollout,
    RolloutEvent,
    RolloutMember,
    RolloutRetry,
    RolloutWave,
    ServiceRequest,
    ServiceRequestVariant,
)
from portal import events
from portal.access import require
from portal.ids import normalise_eui64

if TYPE_CHECKING:
    from portal.models import User
    from portal.savedfilters.models import SavedFilter
    from portal.types import Actor

DEVICE_PAGE = "inventory:device_list"  # the list page whose saved filters choose a population
MAX_WAVES = 50
FAILED_STATES = (RequestState.FAILED, RequestState.TIMED_OUT, RequestState.REJECTED)
# The batch is still checking its rows: its requests are not all made yet.
CHECKING = (BatchState.UPLOADED, BatchState.VALIDATING)
MEMBER_CHUNK = 2000
# Dry-run outcomes that are not DUIS E-codes: would be sent, would be quarantined.
ELIGIBLE, QUARANTINED = "eligible", "quarantined"


# --- Input --------------------------------------------------------------------------------------

@dataclass
class WaveIn:
    """One wave as asked for: ``size`` devices (``count``) or per cent of the population."""

    size: Decimal
    size_kind: str = WaveSizeKind.PERCENT
    success_threshold: Decimal = Decimal("95")
    error_threshold: Decimal = Decimal("5")
    auto_advance: bool = True


def parse_waves(text: str, *, success_threshold: Any = 95, error_threshold: Any = 5,
                auto_advance: bool = True) -> list[WaveIn]:
    """Waves written as a list (``"0.1%, 1%, 100, rest"``): a number of devices, a percentage, or
    ``rest`` (everything left, i.e. 100 %), each with the same thresholds."""
    waves = []
    for number, part in enumerate((p.strip() for p in (text or "").replace(";", ",").split(",")), start=1):
        if not part:
            continue
        kind, raw = WaveSizeKind.COUNT, part
        if part.lower() == "rest":
            kind, raw = WaveSizeKind.PERCENT, "100"
        elif part.endswith("%"):
            kind, raw = WaveSizeKind.PERCENT, part[:-1].strip()
        try:
            size = Decimal(raw)
        except InvalidOperation:
            raise ValidationError({"waves": f"wave {number}: {part!r} is not a number of devices, a percentage "
                                            "such as 10% or 'rest'"}) from None
        waves.append(WaveIn(size=size, size_kind=kind, success_threshold=_decimal(success_threshold),
                            error_threshold=_decimal(error_threshold), auto_advance=auto_advance))
    return waves


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("NaN")


def _clean_waves(waves: Sequence[WaveIn | dict[str, Any]]) -> list[WaveIn]:
    cleaned: list[WaveIn] = []
    errors = []
    for number, wave in enumerate(waves, start=1):
        if isinstance(wave, dict):
            known = {k: wave[k] for k in ("size", "size_kind", "success_threshold", "error_threshold",
                                          "auto_advance") if k in wave}
            wave = WaveIn(**{**known, **{k: _decimal(known[k]) for k in ("size", "success_threshold",
                                                                          "error_threshold") if k in known}})
        where = f"wave {number}"
        if wave.size_kind not in WaveSizeKind.values:
            errors.append(f"{where}: size_kind must be one of {', '.join(WaveSizeKind.values)}")
        elif not wave.size.is_finite() or wave.size <= 0:
            errors.append(f"{where}: the size must be more than 0")
        elif wave.size_kind == WaveSizeKind.COUNT and wave.size != wave.size.to_integral_value():
            errors.append(f"{where}: a number of devices must be a whole number")
        elif wave.size_kind == WaveSizeKind.PERCENT and wave.size > 100:
            errors.append(f"{where}: a percentage is at most 100")
        for name in ("success_threshold", "error_threshold"):
            value = getattr(wave, name)
            if not value.is_finite() or not 0 < value <= 100:
                errors.append(f"{where}: {name.replace('_', ' ')} must be a percentage above 0, at most 100")
        cleaned.append(wave)
    if not cleaned:
        errors.append("give at least one wave, e.g. 1%, 10%, rest")
    if len(cleaned) > MAX_WAVES:
        errors.append(f"at most {MAX_WAVES} waves")
    if errors:
        raise ValidationError({"waves": errors})
    return cleaned


def parse_device_list(text: str) -> tuple[list[str], int]:
    """The device ids of an uploaded list (one a line, or the first column of a CSV with a
    ``device_id`` header), canonical EUI-64 where they are one (others are kept as written: the
    check answers E19). Returns (ids in file order, each once; how many repeats were dropped)."""
    seen: dict[str, None] = {}
    repeats = 0
    for number, line in enumerate((text or "").splitlines(), start=1):
        cell = line.replace(";", ",").replace("\t", ",").split(",")[0].strip().strip('"').strip()
        if not cell or (number == 1 and cell.lower() in ("device_id", "device id", "device")):
            continue
        try:
            ref = normalise_eui64(cell)
        except ValidationError:
            ref = cell[:40]
        if ref in seen:
            repeats += 1
        else:
            seen[ref] = None
        if len(seen) > settings.UPLOAD_MAX_ROWS:
            raise ValidationError({"device_list": f"more than {settings.UPLOAD_MAX_ROWS:,} devices (UPLOAD_MAX_ROWS)"})
    return list(seen), repeats


MAX_RATE = 100_000  # a bound on every throttle figure: far above what a CSP takes


def clean_throttle(throttle: dict[str, Any]) -> dict[str, int | None]:
    """The throttle's figures (``PACING_FIELDS``), each a whole number from 1 to MAX_RATE or empty
    (no limit). Refused, naming the field: anything else, and names that are not throttle figures."""
    unknown = sorted(set(throttle) - set(PACING_FIELDS))
    if unknown:
        raise ValidationError({"throttle": f"unknown throttle figures: {', '.join(map(str, unknown))[:200]} "
                                           f"(known: {', '.join(PACING_FIELDS)})"})
    cleaned: dict[str, int | None] = {}
    errors = {}
    for name in PACING_FIELDS:
        value = throttle.get(name)
        if value is None or value == "":
            cleaned[name] = None
            continue
        try:
            number = int(str(value).strip())
        except ValueError:
            number = 0
        if str(number) != str(value).strip() or not 1 <= number <= MAX_RATE:
            errors[name] = f"a whole number from 1 to {MAX_RATE:,}, or empty for no limit"
        cleaned[name] = number
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_window(start: Any, end: Any) -> dict[str, dt.time | None]:
    """A time window in Europe/London (``"01:00"``, ``"05:00"`` or times): both or neither, not the
    same time; an end before the start crosses midnight. Refused, naming the field."""
    import datetime

    def parse(value: Any, name: str) -> datetime.time | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime.time):
            return value.replace(second=0, microsecond=0, tzinfo=None)
        text = str(value).strip()[:10]
        try:
            return datetime.time.fromisoformat(text).replace(second=0, microsecond=0, tzinfo=None)
        except ValueError:
            raise ValidationError({name: f"{text!r} is not a time of day such as 01:00"}) from None

    first, last = parse(start, "window_start"), parse(end, "window_end")
    if (first is None) != (last is None):
        raise ValidationError({"window_start" if first is None else "window_end": "give both ends of the time "
                               "window (e.g. 01:00 and 05:00), or neither for any time"})
    if first is not None and first == last:
        raise ValidationError({"window_end": "the window ends when it starts: give a different time (or no "
                                             "window for any time)"})
    return {"window_start": first, "window_end": last}


def rollout_window(*, rollout: Rollout, actor: User, start: Any, end: Any, reason: str = "") -> Rollout:
    """Change the time window of a rollout that has not ended; its sender follows at its next claim."""
    require(actor, "adapter.rollout.pause", rollout)
    window = clean_window(start, end)
    with set_actor(actor), transaction.atomic():
        locked = _locked(rollout, [s for s in RolloutState.values if s not in ENDED_ROLLOUT_STATES],
                         "the window of an ended rollout does not change")
        before = pacing.window_text(locked)
        locked.window_start, locked.window_end = window["window_start"], window["window_end"]
        locked.save(update_fields=["window_start", "window_end"])
        Batch.objects.filter(rollout=locked).update(paced=locked.is_paced)
        _record(locked, actor, locked.state, locked.state, f"time window changed from {before} to "
                f"{pacing.window_text(locked)}" + (f": {reason.strip()[:500]}" if (reason or "").strip() else ""))
        transaction.on_commit(lambda: wake_senders(locked.pk))
    return locked


def throttle_text(rollout: Rollout) -> str:
    """The throttle in words, e.g. "50 per second, 200 in flight; in each region 20 per second"."""
    overall = [f"{rollout.max_per_second:,} per second" if rollout.max_per_second else "",
               f"{rollout.max_in_flight:,} in flight" if rollout.max_in_flight else ""]
    regional = [f"{rollout.region_max_per_second:,} per second" if rollout.region_max_per_second else "",
                f"{rollout.region_max_in_flight:,} in flight" if rollout.region_max_in_flight else ""]
    parts = [", ".join(p for p in overall if p)]
    if any(regional):
        parts.append("in each region " + ", ".join(p for p in regional if p))
    return "; ".join(p for p in parts if p) or "no limit"


def rollout_throttle(*, rollout: Rollout, actor: User, throttle: dict[str, Any], reason: str = "") -> Rollout:
    """Change the throttle of a rollout that has not ended; its batches follow at their next claim."""
    require(actor, "adapter.rollout.pause", rollout)
    pace = clean_throttle(throttle)
    with set_actor(actor), transaction.atomic():
        locked = _locked(rollout, [s for s in RolloutState.values if s not in ENDED_ROLLOUT_STATES],
                         "the throttle of an ended rollout does not change")
        before = throttle_text(locked)
        for name, value in pace.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(pace))
        Batch.objects.filter(rollout=locked).update(paced=locked.is_paced)
        _record(locked, actor, locked.state, locked.state, f"throttle changed from {before} to "
                f"{throttle_text(locked)}" + (f": {reason.strip()[:500]}" if (reason or "").strip() else ""))
        transaction.on_commit(lambda: wake_senders(locked.pk))
    return locked


# --- Drawing up ---------------------------------------------------------------------------------

def rollout_create(*, actor: User, name: str, srv: ServiceRequestVariant | str, params: dict[str, Any] | None,
                   waves: Sequence[WaveIn | dict[str, Any]], device_list: str = "",
                   saved_filter: SavedFilter | None = None, throttle: dict[str, Any] | None = None,
                   window: tuple[Any, Any] | None = None, from_rollout: Rollout | None = None,
                   failure_class: str = "") -> Rollout:
    """Draw up a rollout (draft) for the actor's organisation: nothing is checked per device or
    sent until it starts (a dry run checks every device without sending). Refused, naming the
    field: an unknown SRV, parameters outside the SRV's schema, bad waves, no population or both."""
    require(actor, "adapter.rollout.create")
    organisation = actor.organisation
    if organisation is None:
        raise ValidationError({"organisation": "you belong to no organisation"})
    try:
        srv = services.srv_by_code(srv)
        services.originator_for(organisation)
    except services.SubmitRefused as exc:
        raise ValidationError({exc.field: exc.message}) from None
    params = params if params is not None else {}
    try:
        schema.validate(srv.param_schema or {}, params)
    except schema.ParamError as exc:
        raise ValidationError({"params": f"Invalid parameter {exc.field}: {exc.message}."}) from None
    cleaned = _clean_waves(waves)
    pace: dict[str, Any] = {**clean_throttle(throttle or {}), **clean_window(*(window or (None, None)))}
    given = [bool((device_list or "").strip()), saved_filter is not None, from_rollout is not None]
    if sum(given) != 1:
        raise ValidationError({"population": "choose the devices: upload a list of device ids, pick a saved "
                                             "filter of the device register, or an earlier rollout's failed "
                                             "devices (one of the three)"})
    failure_class = (failure_class or "").strip()[:20]
    if from_rollout is not None:
        from_rollout = Rollout.objects.filter(pk=from_rollout.pk).first()  # as stored, not the caller's copy
        if from_rollout is None or from_rollout.organisation_id != organisation.pk or from_rollout.started_at is None:
            raise ValidationError({"from_rollout": "choose a rollout of your organisation that has started"})
        if failure_class and failure_class not in failures.BY_KEY:
            raise ValidationError({"failure_class": f"{failure_class!r} is not a failure class (one of "
                                                    f"{', '.join(failures.BY_KEY)})"})
        source = PopulationSource.FAILURES
    elif saved_filter is not None:
        if saved_filter.user_id != actor.pk or saved_filter.page != DEVICE_PAGE:
            raise ValidationError({"saved_filter": "choose one of your own saved filters of the device register"})
        source = PopulationSource.SAVED_FILTER
    else:
        refs, _repeats = parse_device_list(device_list)
        if not refs:
            raise ValidationError({"device_list": "the list holds no device id"})
        source = PopulationSource.LIST
    with set_actor(actor), transaction.atomic():
        rollout = Rollout(organisation=organisation, created_by=actor, name=(name or "").strip(), srv=srv,
                          params=params, population_source=source, device_list=device_list or "",
                          saved_filter=saved_filter, source_rollout=from_rollout,
                          source_failure_class=failure_class if from_rollout is not None else "", **pace)
        rollout.full_clean()
        rollout.save()
        for ordinal, wave in enumerate(cleaned, start=1):
            row = RolloutWave(rollout=rollout, ordinal=ordinal, size_kind=wave.size_kind, size=wave.size,
                              success_threshold=wave.success_threshold, error_threshold=wave.error_threshold,
                              auto_advance=wave.auto_advance)
            row.full_clean()
            row.save()
        _record(rollout, actor, "", RolloutState.DRAFT, "drawn up")
    return rollout


def wave_sizes(total: int, waves: Sequence[RolloutWave | WaveIn]) -> list[int]:
    """How many members each wave gets from a population of ``total``, in order: a count, or a
    percentage of the whole population rounded up (0.1 % of 500 is 1 device), never more than is
    left; the last wave takes whatever is left."""
    sizes, remaining = [], total
    for index, wave in enumerate(waves):
        if index == len(waves) - 1:
            wanted = remaining
        elif wave.size_kind == WaveSizeKind.COUNT:
            wanted = int(wave.size)
        else:
            wanted = math.ceil(Decimal(total) * Decimal(wave.size) / 100)
        taken = min(wanted, remaining)
        sizes.append(taken)
        remaining -= taken
    return sizes


def population(rollout: Rollout, user: User) -> tuple[list[tuple[str, int | None]], int]:
    """The rollout's devices now: [(device id, device pk or None)] in order, each once, and the
    repeats dropped. A saved filter is evaluated through the device register's filters within what
    ``user`` may see (a supplier's filter finds its own devices only)."""
    from inventory.models import Device

    if rollout.population_source == PopulationSource.FAILURES:
        if rollout.source_rollout_id is None:
            raise ValidationError({"from_rollout": "the earlier rollout of this one was deleted"})
        return failed_members(rollout.source_rollout_id, rollout.source_failure_class), 0
    if rollout.population_source == PopulationSource.SAVED_FILTER:
        devices = scope_devices(rollout, user)
        return [(device_id, pk) for pk, device_id in devices.order_by("pk").values_list("pk", "device_id")], 0
    refs, repeats = parse_device_list(rollout.device_list)
    known: dict[str, int] = {}
    for start in range(0, len(refs), 900):
        known.update(Device.objects.filter(device_id__in=refs[start:start + 900]).values_list("device_id", "pk"))
    return [(ref, known.get(ref)) for ref in refs], repeats


def failed_members(rollout_pk: int, failure_class: str = "") -> list[tuple[str, int | None]]:
    """The devices of a rollout whose latest attempt failed (failed, timed out, or refused at the
    check), of one failure class or of any, in the rollout's order: [(device id, device pk)]."""
    link_checked(rollout_pk)
    refused: dict[tuple[int, int], str] = {}
    for batch_id, row, code in BatchRow.objects.filter(batch__rollout_wave__rollout_id=rollout_pk,
                                                       request__isnull=True).values_list("batch_id", "row", "code"):
        refused[(batch_id, row)] = code
    chosen = []
    for ref, pk, state, outcome, batch_id, row in (
            RolloutMember.objects.filter(rollout_id=rollout_pk).order_by("wave__ordinal", "row")
            .values_list("device_ref", "device_id", "request__state", "request__outcome", "wave__batch_id", "row")
            .iterator(chunk_size=5000)):
        if state in FAILED_STATES:
            key = failures.class_of(outcome or "", state)
        elif state is None and (batch_id, row) in refused:
            key = failures.class_of(refused[(batch_id, row)])
        else:
            continue
        if not failure_class or key == failure_class:
            chosen.append((ref, pk))
    return chosen


def rollout_extend(*, rollout: Rollout, actor: User, device_list: str, reason: str = "") -> RolloutWave:
    """Add devices to a running (or paused) rollout as a new last wave, with the thresholds of the
    wave before it; it starts as any wave does. Refused, naming the field: a device already in the
    rollout (a device is in a rollout once), an empty list."""
    require(actor, "adapter.rollout.start", rollout)
    refs, _repeats = parse_device_list(device_list)
    if not refs:
        raise ValidationError({"device_list": "the list holds no device id"})
    from inventory.models import Device

    with set_actor(actor), transaction.atomic():
        locked = _locked(rollout, [RolloutState.RUNNING, RolloutState.PAUSED],
                         "only a running or paused rollout is extended")
        already = []
        for start in range(0, len(refs), 900):
            already += RolloutMember.objects.filter(rollout=locked, device_ref__in=refs[start:start + 900]
                                                    ).values_list("device_ref", flat=True)
        if already:
            shown = ", ".join(sorted(already)[:5]) + (f" and {len(already) - 5:,} more" if len(already) > 5 else "")
            raise ValidationError({"device_list": f"{len(already):,} of these devices are in the rollout already "
                                                  f"(a device is in a rollout once): {shown}"})
        known: dict[str, int] = {}
        for start in range(0, len(refs), 900):
            known.update(Device.objects.filter(device_id__in=refs[start:start + 900]).values_list("device_id", "pk"))
        last = locked.waves.order_by("-ordinal").first()
        if last is None:
            raise ValidationError({"waves": "the rollout has no wave to follow"})
        if last.ordinal >= MAX_WAVES * 2:
            raise ValidationError({"waves": f"at most {MAX_WAVES * 2} waves with extensions"})
        wave = RolloutWave.objects.create(rollout=locked, ordinal=last.ordinal + 1, size_kind=WaveSizeKind.COUNT,
                                          size=len(refs), success_threshold=last.success_threshold,
                                          error_threshold=last.error_threshold, auto_advance=last.auto_advance,
                                          member_count=len(refs))
        members = [RolloutMember(rollout=locked, wave=wave, row=row, device_ref=ref, device_id=known.get(ref))
                   for row, ref in enumerate(refs, start=1)]
        for start in range(0, len(members), MEMBER_CHUNK):
            RolloutMember.objects.bulk_create(members[start:start + MEMBER_CHUNK])
        Rollout.objects.filter(pk=locked.pk).update(population_size=F("population_size") + len(refs))
        _record(locked, actor, locked.state, locked.state, f"extended with {len(refs):,} devices as wave "
                f"{wave.ordinal}" + (f": {reason.strip()[:500]}" if (reason or "").strip() else ""), wave=wave)
    return wave


def scope_devices(rollout: Rollout, user: User) -> Any:
    from types import SimpleNamespace

    from django.http import QueryDict

    from inventory.filtersets import DeviceFilterSet
    from inventory.models import Device
    from portal.scoping import scope

    query = rollout.population_query if rollout.state != RolloutState.DRAFT else (
        rollout.saved_filter.querystring if rollout.saved_filter else None)
    if query is None:
        raise ValidationError({"saved_filter": "the saved filter of this rollout was deleted"})
    filterset = DeviceFilterSet(QueryDict(query), queryset=scope(user, Device.objects.all()),
                                request=SimpleNamespace(user=user))
    if not filterset.is_valid():
        raise ValidationError({"saved_filter": f"the saved filter no longer applies: {filterset.errors.as_text()}"})
    return filterset.qs


# --- Control ------------------------------------------------------------------------------------

def _locked(rollout: Rollout, allowed: Iterable[str], what: str) -> Rollout:
    """The rollout's row, locked (every control and the evaluation take this lock), in one of the
    ``allowed`` states, else Conflict saying ``what`` the action needs."""
    locked = Rollout.objects.select_for_update(of=("self",)).select_related("organisation", "srv").get(pk=rollout.pk)
    if locked.state not in allowed:
        raise services.Conflict("state", f"rollout {locked.pk} is {locked.get_state_display().lower()}: {what}")
    return locked


def _record(rollout: Rollout, actor: Actor, from_state: str, to_state: str, reason: str, *,
            wave: RolloutWave | None = None, event: str = "") -> RolloutEvent:
    """The RolloutEvent of a change (who, when, from, to, why) and, after commit, its published event."""
    entry = RolloutEvent.objects.create(rollout=rollout, wave=wave, actor=actor, at=timezone.now(),
                                        from_state=from_state, to_state=to_state, reason=reason)
    if event:
        who = str(actor) if actor is not None else "the rollout's thresholds"
        summary = f"Rollout {rollout}: {to_state.replace('_', ' ')}" + (f" (wave {wave.ordinal})" if wave else "")
        payload = {"from_state": from_state, "to_state": to_state, "reason": reason,
                   "wave": wave.ordinal if wave else None}
        recipients = [rollout.created_by] if rollout.created_by_id else []
        transaction.on_commit(lambda: events.publish(
            event, obj=rollout, organisation=rollout.organisation, recipients=recipients, summary=summary,
            body=f"{reason} ({who})", url=rollout.get_absolute_url(), payload=payload))
    return entry


def _set_state(rollout: Rollout, to_state: str, actor: Actor, reason: str, event: str, **fields: Any) -> None:
    from_state = rollout.state
    rollout.state = to_state
    for name, value in fields.items():
        setattr(rollout, name, value)
    rollout.save(update_fields=["state", *fields])
    _record(rollout, actor, from_state, to_state, reason, event=event)


def rollout_start(*, rollout: Rollout, actor: User) -> Rollout:
    """Freeze the population (members, each in its wave) and start the first wave. Refused, naming
    the field: a rollout already started, an empty population."""
    require(actor, "adapter.rollout.start", rollout)
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _locked(rollout, [RolloutState.DRAFT], "only a draft starts")
        if locked.population_source == PopulationSource.SAVED_FILTER:
            locked.population_query = locked.saved_filter.querystring if locked.saved_filter else ""
            if locked.saved_filter is None:
                raise ValidationError({"saved_filter": "the saved filter of this rollout was deleted"})
        devices, repeats = population(locked, actor)
        if not devices:
            raise ValidationError({"population": "the population is empty: no device to send to"})
        waves = list(locked.waves.order_by("ordinal"))
        sizes = wave_sizes(len(devices), waves)
        offset = 0
        for wave, size in zip(waves, sizes, strict=True):
            members = [RolloutMember(rollout=locked, wave=wave, row=row, device_ref=ref, device_id=pk)
                       for row, (ref, pk) in enumerate(devices[offset:offset + size], start=1)]
            for start in range(0, len(members), MEMBER_CHUNK):
                RolloutMember.objects.bulk_create(members[start:start + MEMBER_CHUNK])
            offset += size
            wave.member_count = size
            if size == 0:
                wave.state, wave.done_at = WaveState.DONE, now  # nothing left for it
            wave.save(update_fields=["member_count", "state", "done_at"])
        frozen = f"{len(devices):,} devices in {len(waves)} waves ({', '.join(map(str, sizes))})"
        why_approval = approval_needed(locked, len(devices))
        if why_approval:
            _set_state(locked, RolloutState.AWAITING_APPROVAL, actor, f"frozen: {frozen}; it waits for a second "
                       f"person ({why_approval})", "rollout.awaiting_approval", started_at=now, started_by=actor,
                       population_size=len(devices), duplicates_dropped=repeats,
                       population_query=locked.population_query, needs_approval=True, approval_reason=why_approval)
            return locked
        _set_state(locked, RolloutState.RUNNING, actor, f"started: {frozen}", "rollout.started", started_at=now,
                   started_by=actor, population_size=len(devices), duplicates_dropped=repeats,
                   population_query=locked.population_query)
        _start_wave(locked, waves[0], actor)
    return locked


def approval_needed(rollout: Rollout, size: int) -> str:
    """Why the rollout needs a second person before its first wave ("" if it does not): a critical
    SRV, or more devices than ADAPTER_ROLLOUT_APPROVAL_SIZE."""
    reasons = []
    if rollout.srv.critical:
        reasons.append(f"{rollout.srv.code} is a critical SRV")
    if size > int(settings.ADAPTER_ROLLOUT_APPROVAL_SIZE):
        reasons.append(f"{size:,} devices, more than {int(settings.ADAPTER_ROLLOUT_APPROVAL_SIZE):,}")
    return "; ".join(reasons)


def _awaiting_decision(rollout: Rollout) -> Rollout:
    locked = _locked(rollout, [RolloutState.AWAITING_APPROVAL], "only a rollout waiting for a second person is "
                     "approved or declined")
    if not locked.needs_approval or locked.approved_at is not None:
        raise services.Conflict("state", f"rollout {locked.pk} waits for a wave's batch, not for its own approval")
    return locked


def rollout_approve(*, rollout: Rollout, actor: User, reason: str = "") -> Rollout:
    """A second person (DCC, never the one who started it) approves a rollout held for four eyes:
    its first wave starts, and its waves' batches count as approved (no second hold per batch)."""
    services._second_person(actor, None, "adapter.rollout.approve", f"rollout {rollout.pk}")
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _awaiting_decision(rollout)
        # the starter as stored (not as the caller's copy says): never their own decision
        services._second_person(actor, locked.started_by_id, "adapter.rollout.approve", f"rollout {locked.pk}")
        why = f"approved by {actor} (started by {locked.started_by})" + (
            f": {reason.strip()[:500]}" if (reason or "").strip() else "")
        _set_state(locked, RolloutState.RUNNING, actor, why, "rollout.started", approved_by=actor, approved_at=now)
        first = locked.waves.filter(state=WaveState.PENDING).order_by("ordinal").first()
        if first is not None:
            _start_wave(locked, first, actor)
    return locked


def rollout_decline(*, rollout: Rollout, actor: User, reason: str = "") -> Rollout:
    """A second person declines a rollout held for four eyes: it is cancelled, nothing was sent."""
    services._second_person(actor, None, "adapter.rollout.approve", f"rollout {rollout.pk}")
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _awaiting_decision(rollout)
        # the starter as stored (not as the caller's copy says): never their own decision
        services._second_person(actor, locked.started_by_id, "adapter.rollout.approve", f"rollout {locked.pk}")
        locked.waves.exclude(state=WaveState.DONE).update(state=WaveState.CANCELLED)
        why = f"declined by {actor} (started by {locked.started_by})" + (
            f": {reason.strip()[:500]}" if (reason or "").strip() else "")
        _set_state(locked, RolloutState.CANCELLED, actor, why, "rollout.cancelled", declined_by=actor,
                   declined_at=now, ended_at=now)
    return locked


def _start_wave(rollout: Rollout, wave: RolloutWave, actor: Actor) -> None:
    """Make the wave's Batch (its rows: the wave's members) and hand it to the batch check."""
    now = timezone.now()
    batch = Batch(organisation=rollout.organisation, user=rollout.started_by or actor,
                  name=f"{rollout.name or f'Rollout {rollout.pk}'}: wave {wave.ordinal}"[:200],
                  filename="", source=b"", source_format="rollout", total_rows=wave.member_count,
                  rollout=rollout, paced=rollout.is_paced,
                  # the rollout's four eyes stand for its batches'
                  approved_by=rollout.approved_by, approved_at=rollout.approved_at)
    batch.full_clean(exclude=["source"])
    batch.save()
    from_state = wave.state
    wave.batch, wave.state, wave.started_at = batch, WaveState.RUNNING, now
    wave.save(update_fields=["batch", "state", "started_at"])
    _record(rollout, actor, from_state, WaveState.RUNNING, f"wave {wave.ordinal} started: {wave.member_count:,} "
            "devices", wave=wave, event="rollout.wave_started")
    transaction.on_commit(lambda: services._enqueue_batch_check(batch.pk))


def wave_start(*, wave: RolloutWave, actor: User) -> RolloutWave:
    """A person starts a wave that is ready (its predecessor reached the success threshold, or
    ended below it and the rollout was resumed)."""
    require(actor, "adapter.rollout.start", wave.rollout)
    with set_actor(actor), transaction.atomic():
        rollout = _locked(wave.rollout, [RolloutState.RUNNING], "a wave starts only while it runs (resume it first)")
        locked = RolloutWave.objects.select_for_update().get(pk=wave.pk)
        if locked.state != WaveState.READY:
            raise services.Conflict("state", f"wave {locked.ordinal} is {locked.get_state_display().lower()}, not "
                                    "ready to start")
        _start_wave(rollout, locked, actor)
    return locked


def rollout_pause(*, rollout: Rollout, actor: User, reason: str = "") -> Rollout:
    """Stop sending: nothing more of the rollout is handed to the network (its batches are held);
    requests already handed over finish and are counted."""
    require(actor, "adapter.rollout.pause", rollout)
    with set_actor(actor), transaction.atomic():
        locked = _locked(rollout, LIVE_ROLLOUT_STATES, "only a running rollout pauses")
        if locked.needs_approval and locked.approved_at is None:
            raise services.Conflict("state", f"rollout {locked.pk} has sent nothing: it waits for a second "
                                    "person (cancel it to withdraw it)")
        _pause(locked, actor, (reason or "").strip() or f"paused by {actor}")
    return locked


def _pause(rollout: Rollout, actor: Actor, reason: str) -> None:
    Batch.objects.filter(rollout=rollout).update(held=True)
    _set_state(rollout, RolloutState.PAUSED, actor, reason, "rollout.paused")


def rollout_resume(*, rollout: Rollout, actor: User, reason: str = "") -> Rollout:
    """Go on after a pause. The person accepts the failures so far: each started wave's error
    threshold counts failures from here on, and a wave that ended below its success threshold
    lets a person start the next one."""
    require(actor, "adapter.rollout.pause", rollout)
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _locked(rollout, [RolloutState.PAUSED], "only a paused rollout resumes")
        for wave in locked.waves.filter(batch__isnull=False).select_related("batch"):
            wave.acknowledged_failures, wave.acknowledged_at = wave_counts(wave).failures, now
            wave.save(update_fields=["acknowledged_failures", "acknowledged_at"])
        # a retry still in its back-off stays held: the evaluation lets it go when its time comes
        going = Batch.objects.filter(rollout=locked).exclude(rollout_retry__released_at__isnull=True,
                                                             rollout_retry__isnull=False)
        batches = list(going.values_list("pk", "state"))
        going.update(held=False)
        _set_state(locked, RolloutState.RUNNING, actor, (reason or "").strip() or f"resumed by {actor}",
                   "rollout.resumed")
        running = [pk for pk, state in batches if state == BatchState.RUNNING]
        transaction.on_commit(lambda: _send_again(running, locked.pk))
    return locked


def _send_again(batch_pks: Iterable[int], rollout_pk: int) -> None:
    for batch_pk in batch_pks:
        tasks._enqueue_batch_dispatch(batch_pk)
    evaluate(rollout_pk)


def rollout_cancel(*, rollout: Rollout, actor: User, reason: str = "") -> Rollout:
    """End the rollout: its requests not yet handed over are cancelled (each wave's batch is
    cancelled as any batch is), waves not started never start; in-flight requests finish."""
    require(actor, "adapter.rollout.cancel", rollout)
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _locked(rollout, [s for s in RolloutState.values if s not in ENDED_ROLLOUT_STATES],
                         "it has ended already")
        for batch in locked.batches.exclude(state__in=(BatchState.COMPLETED, BatchState.CANCELLED)):
            services.batch_cancel(batch=batch, actor=actor)  # the waves' and the retries'
        for wave in locked.waves.all():
            if wave.state != WaveState.DONE:
                wave.state = WaveState.CANCELLED
                wave.save(update_fields=["state"])
        _set_state(locked, RolloutState.CANCELLED, actor, (reason or "").strip() or f"cancelled by {actor}",
                   "rollout.cancelled", ended_at=now)
    return locked


# --- Retry the failed of a class ----------------------------------------------------------------

def retryable_members(rollout: Rollout, failure_class: str, wave: RolloutWave | None = None) -> Any:
    """Members whose latest attempt failed (failed, timed out) with a code of ``failure_class``,
    not in a retry still to be checked, and with attempts left."""
    failed = RolloutMember.objects.filter(rollout=rollout, request__state__in=(RequestState.FAILED,
                                                                               RequestState.TIMED_OUT))
    if wave is not None:
        failed = failed.filter(wave=wave)
    failed = failed.filter(attempt__lt=int(settings.ADAPTER_ROLLOUT_MAX_ATTEMPTS)).exclude(
        retry__isnull=False, retry__linked_at__isnull=True)
    klass = failures.BY_KEY[failure_class]
    if klass.codes:
        matches = Q(request__outcome__in=klass.codes)
        if failure_class == failures.class_of("", RequestState.TIMED_OUT):
            matches |= Q(request__outcome="", request__state=RequestState.TIMED_OUT)
        failed = failed.filter(matches)
    else:  # the device's own codes: every code no other class names
        known = [code for c in failures.FAILURE_CLASSES for code in c.codes]
        failed = failed.exclude(request__outcome__in=known).exclude(request__outcome="")
    return failed


def rollout_retry(*, rollout: Rollout, actor: User, failure_class: str, wave: int | None = None,
                  reason: str = "") -> RolloutRetry:
    """Send a new attempt (a new request with a new id) to each member whose latest attempt failed
    with ``failure_class`` (of one wave, or of all), if the class is one that is retried. The
    attempts wait for the back-off (ADAPTER_ROLLOUT_RETRY_BACKOFF_SECONDS, doubling with each
    further attempt) and go through the same checks and pace as the waves. A completed rollout
    runs again until the retry is done. Refused, naming the field: a class not retried, a wave it
    does not have, no member to retry."""
    require(actor, "adapter.rollout.start", rollout)
    key = (failure_class or "").strip()[:20]
    if key not in failures.BY_KEY:
        raise ValidationError({"failure_class": f"{key!r} is not a failure class (one of "
                                                f"{', '.join(failures.BY_KEY)})"})
    if not failures.BY_KEY[key].retried:
        raise ValidationError({"failure_class": f"{key} failures are not retried: "
                                                f"{failures.BY_KEY[key].explanation}"})
    now = timezone.now()
    with set_actor(actor), transaction.atomic():
        locked = _locked(rollout, [RolloutState.RUNNING, RolloutState.PAUSED, RolloutState.COMPLETED],
                         "only a running, paused or completed rollout retries its failed")
        of_wave = None
        if wave is not None:
            of_wave = locked.waves.filter(ordinal=wave).first()
            if of_wave is None:
                raise ValidationError({"wave": f"rollout {locked.pk} has no wave {wave}"})
        link_checked(locked.pk)
        chosen = list(retryable_members(locked, key, of_wave).select_for_update(of=("self",))
                      .order_by("pk").values_list("pk", "attempt"))
        if not chosen:
            raise ValidationError({"failure_class": f"no device of this rollout{f' (wave {wave})' if wave else ''} "
                                                    f"failed with a {key} failure and has attempts left"})
        attempt = max(a for _pk, a in chosen) + 1
        delay = int(settings.ADAPTER_ROLLOUT_RETRY_BACKOFF_SECONDS) * 2 ** (attempt - 2)
        not_before = now + dt.timedelta(seconds=delay)
        batch = Batch(organisation=locked.organisation, user=locked.started_by or actor,
                      name=f"{locked.name or f'Rollout {locked.pk}'}: retry of {key} failures"[:200],
                      filename="", source=b"", source_format="rollout", total_rows=len(chosen),
                      rollout=locked, paced=locked.is_paced, held=True, approved_by=locked.approved_by,
                      approved_at=locked.approved_at)
        batch.full_clean(exclude=["source"])
        batch.save()
        retry = RolloutRetry.objects.create(rollout=locked, wave=of_wave, failure_class=key, attempt=attempt,
                                            batch=batch, member_count=len(chosen), created_by=actor, created_at=now,
                                            not_before=not_before, reason=(reason or "").strip()[:500])
        pks = [pk for pk, _a in chosen]
        for start in range(0, len(pks), MEMBER_CHUNK):
            RolloutMember.objects.filter(pk__in=pks[start:start + MEMBER_CHUNK]).update(retry=retry,
                                                                                     attempt=F("attempt") + 1)
        why = (f"retry of {len(chosen):,} devices with {key} failures{f' in wave {wave}' if wave else ''} "
               f"(attempt {attempt}), sent from {not_before:%Y-%m-%d %H:%M:%S} UTC"
               + (f": {retry.reason}" if retry.reason else ""))
        if locked.state == RolloutState.COMPLETED:
            _set_state(locked, RolloutState.RUNNING, actor, why, "rollout.retry_started", ended_at=None)
        else:
            _record(locked, actor, locked.state, locked.state, why, wave=of_wave, event="rollout.retry_started")
        transaction.on_commit(lambda: services._enqueue_batch_check(batch.pk))
    return retry


def _release_retries(rollout: Rollout, now: dt.datetime) -> None:
    """Retries whose back-off has passed go out (a running rollout only); a checked retry's members
    are joined to their new requests; a retry whose batch ended is done."""
    for retry in rollout.retries.select_related("batch").filter(batch__isnull=False).exclude(
            batch__state__in=(BatchState.COMPLETED, BatchState.CANCELLED, BatchState.FAILED), linked_at__isnull=False):
        batch = retry.batch
        if retry.linked_at is None and batch.state not in CHECKING and batch.checked_rows >= batch.total_rows:
            _link_retry(retry, now)
        if retry.released_at is None and retry.not_before <= now and rollout.state == RolloutState.RUNNING:
            retry.released_at = now
            retry.save(update_fields=["released_at"])
            Batch.objects.filter(pk=batch.pk).update(held=False)
            transaction.on_commit(lambda pk=batch.pk: tasks._enqueue_batch_dispatch(pk))


def _retries_open(rollout: Rollout) -> bool:
    return rollout.retries.filter(batch__isnull=False).exclude(
        batch__state__in=(BatchState.COMPLETED, BatchState.CANCELLED, BatchState.FAILED), linked_at__isnull=False
    ).exists() or rollout.retries.filter(linked_at__isnull=True, batch__isnull=False).exists()


def class_counts(wave: RolloutWave) -> dict[str, int]:
    """A wave's failures by class (adapter.failures): of its members' latest attempts once it is
    linked (so a retried device counts by its newest outcome), else of its batch's requests; rows
    refused at the check by their code."""
    counts: dict[str, int] = {}
    if wave.batch_id is None:
        return counts
    if wave.members_linked_at is not None:
        rows = (RolloutMember.objects.filter(wave=wave, request__isnull=False)
                .values_list("request__state", "request__outcome"))
    else:
        rows = ServiceRequest.objects.filter(batch_id=wave.batch_id).values_list("state", "outcome")
    for state, outcome, n in rows.filter(**{("request__state__in" if wave.members_linked_at else "state__in"):
                                            FAILED_STATES}).order_by().annotate(n=Count("id")):
        key = failures.class_of(outcome, state)
        counts[key] = counts.get(key, 0) + n
    for code, n in (BatchRow.objects.filter(batch_id=wave.batch_id, request__isnull=True).order_by()
                    .values_list("code").annotate(n=Count("id"))):
        key = failures.class_of(code)
        counts[key] = counts.get(key, 0) + n
    return counts


# --- Progress -----------------------------------------------------------------------------------

@dataclass
class WaveCounts:
    """A wave's requests by state and outcome, and its terminal shares against its thresholds."""

    members: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)
    refused: int = 0  # rows refused at the check (E2, E19, E11, E4, E5, E40): no request made
    checked: bool = False  # every row checked, every request made
    successes: int = 0
    failures: int = 0
    terminal: int = 0

    def share(self, count: int) -> Decimal:
        return Decimal(count) * 100 / self.members if self.members else Decimal(0)

    @property
    def done(self) -> bool:
        return self.checked and self.terminal >= self.members


def wave_counts(wave: RolloutWave, *, refused_by_code: bool = False) -> WaveCounts:
    """Counts of one wave from its batch: two grouped queries on the batch's requests (the
    (batch, state) index) and, for the page, the refused rows by code."""
    counts = WaveCounts(members=wave.member_count)
    batch = wave.batch
    if batch is None:
        return counts
    for state, outcome, n in (ServiceRequest.objects.filter(batch_id=batch.pk).order_by()
                              .values_list("state", "outcome").annotate(n=Count("id"))):
        counts.by_state[state] = counts.by_state.get(state, 0) + n
        if state in TERMINAL:
            counts.terminal += n
            counts.by_outcome[outcome or state] = counts.by_outcome.get(outcome or state, 0) + n
        if state == RequestState.RESPONDED and outcome == OUTCOME_SUCCESS:
            counts.successes += n
        elif state in FAILED_STATES:
            counts.failures += n
    counts.refused = batch.rejected_rows
    counts.failures += batch.rejected_rows
    counts.terminal += batch.rejected_rows
    counts.checked = batch.state not in CHECKING and batch.checked_rows >= batch.total_rows
    if batch.state == BatchState.FAILED:
        counts.checked = True
    if refused_by_code and batch.rejected_rows:
        for code, n in (BatchRow.objects.filter(batch_id=batch.pk, request__isnull=True).order_by()
                        .values_list("code").annotate(n=Count("id"))):
            counts.by_outcome[code] = counts.by_outcome.get(code, 0) + n
            counts.by_state[RequestState.REJECTED] = counts.by_state.get(RequestState.REJECTED, 0) + n
    return counts


def wave_rows(batch: Batch) -> list[tuple[int, str, str, dict[str, Any], str, str]]:
    """The rows of a wave's batch, as ``adapter.tasks.parse_batch`` gives a file's: one per member
    (row, SRV code, device id, the rollout's parameters, no execution time, no error)."""
    retry = RolloutRetry.objects.select_related("rollout__srv").filter(batch=batch).first()
    if retry is not None:
        # a retry's rows are its members, each numbered by the member's id (unique in the rollout)
        rollout = retry.rollout
        return [(pk, rollout.srv.code, ref, dict(rollout.params), "", "")
                for pk, ref in retry.members.order_by("pk").values_list("pk", "device_ref").iterator(chunk_size=5000)]
    wave = RolloutWave.objects.select_related("rollout__srv").get(batch=batch)
    rollout = wave.rollout
    return [(row, rollout.srv.code, ref, dict(rollout.params), "", "")
            for row, ref in wave.members.order_by("row").values_list("row", "device_ref").iterator(chunk_size=5000)]


def _link_retry(retry: RolloutRetry, now: dt.datetime) -> None:
    """Join each member of a retry to the new request its row made (once its batch is checked in
    full). A row refused at the check made none: the member keeps its earlier, failed request."""
    made = BatchRow.objects.filter(batch_id=retry.batch_id, row=OuterRef("pk"), request__isnull=False).values(
        "request")[:1]
    RolloutMember.objects.filter(retry=retry).exclude(Exists(made)).update(retry=None)
    RolloutMember.objects.filter(retry=retry).update(request=Subquery(made))
    retry.linked_at = now
    retry.save(update_fields=["linked_at"])


def link_checked(rollout_pk: int) -> None:
    """Join the members of every wave whose batch is checked in full to their requests, whatever the
    rollout's state (a rollout paused by its error threshold while its wave was still being checked
    is no longer evaluated, yet its failures are retried or become another rollout's population)."""
    for wave in RolloutWave.objects.filter(rollout_id=rollout_pk, members_linked_at__isnull=True,
                                           batch__isnull=False).select_related("batch"):
        batch = wave.batch
        if batch.state not in CHECKING and batch.checked_rows >= batch.total_rows:
            _link_members(wave)


def _link_members(wave: RolloutWave) -> None:
    """Join each member to the request its batch row made (once the batch is checked in full)."""
    made = BatchRow.objects.filter(batch_id=wave.batch_id, row=OuterRef("row")).values("request")[:1]
    RolloutMember.objects.filter(wave=wave, request__isnull=True).update(request=Subquery(made))
    wave.members_linked_at = timezone.now()
    wave.save(update_fields=["members_linked_at"])


def batch_progressed(batch_id: int) -> None:
    """Called after a dispatch task of a batch: if it is a rollout's wave, evaluate the rollout now
    rather than at the next minute (the emergency stop then comes within a chunk)."""
    rollout_id = Batch.objects.filter(pk=batch_id).values_list("rollout_id", flat=True).first()
    if rollout_id is not None:
        evaluate(rollout_id)


def evaluate_all() -> int:
    """Every live rollout, once (the minute's schedule); and a sender for each running paced
    rollout with requests waiting (its own dispatch alone sends them: this is what starts it
    again when its window opens, or after it gave its worker back waiting for responses)."""
    pks = list(Rollout.objects.filter(state__in=LIVE_ROLLOUT_STATES).values_list("pk", flat=True))
    for pk in pks:
        evaluate(pk)
    wake_senders(paced_only=True)
    return len(pks)



def wake_senders(rollout_pk: int | None = None, *, paced_only: bool = False) -> int:
    """Hand out a sender for each running rollout (or the one given) with requests waiting in an
    unheld running batch: one per paced rollout (its claims take from all its batches) whose
    window is open, one per batch of an unpaced one. Returns how many were handed out."""
    waiting = Batch.objects.filter(rollout__state=RolloutState.RUNNING, held=False, state=BatchState.RUNNING,
                                   requests__state=RequestState.QUEUED)
    if rollout_pk is not None:
        waiting = waiting.filter(rollout_id=rollout_pk)
    if paced_only:  # the minute's sweep sends the others' requests
        waiting = waiting.filter(paced=True)
    seen: set[int] = set()
    woken = 0
    now = timezone.now()
    for batch_pk, of_rollout, paced in waiting.order_by("pk").values_list("pk", "rollout_id", "paced").distinct():
        if paced:
            if of_rollout in seen:
                continue
            seen.add(of_rollout)
            if not pacing.in_window(Rollout.objects.only("window_start", "window_end").get(pk=of_rollout), now):
                continue
        tasks._enqueue_batch_dispatch(batch_pk)
        woken += 1
    return woken


def evaluate(rollout_pk: int) -> None:
    """Look at each running wave's terminal outcomes and act (see the module docstring). One
    evaluation at a time per rollout: the rollout's row is locked (SKIP LOCKED: another
    evaluation in progress will see the same outcomes, so this one steps aside), and every
    person's pause, resume and cancel takes the same lock."""
    with transaction.atomic():
        qs = Rollout.objects.filter(pk=rollout_pk, state__in=LIVE_ROLLOUT_STATES).select_related(
            "organisation", "srv", "started_by", "created_by")
        rollout = qs.select_for_update(of=("self",), skip_locked=True).first()
        if rollout is None:
            return
        _evaluate(rollout)


def _evaluate(rollout: Rollout) -> None:
    if rollout.needs_approval and rollout.approved_at is None:
        return  # nothing started: it waits for a second person
    now = timezone.now()
    waves = list(rollout.waves.select_related("batch").order_by("ordinal"))
    counts: dict[int, WaveCounts] = {}
    awaiting_approval = False
    for wave in waves:
        if wave.state not in (WaveState.RUNNING, WaveState.DONE) or wave.batch is None:
            continue
        wave_count = counts[wave.pk] = wave_counts(wave)
        if wave.state != WaveState.RUNNING:
            continue
        batch = wave.batch
        awaiting_approval |= batch.state == BatchState.AWAITING_APPROVAL
        if batch.state == BatchState.FAILED:
            _pause(rollout, None, f"wave {wave.ordinal}: its batch could not be checked ({batch.error})")
            return
        if wave_count.checked and wave.members_linked_at is None:
            _link_members(wave)
        failed = wave_count.failures - wave.acknowledged_failures
        share = wave_count.share(failed)
        if failed > 0 and share >= wave.error_threshold:
            _pause(rollout, None, f"Emergency stop: wave {wave.ordinal} has {failed:,} failures of "
                   f"{wave.member_count:,} devices ({share:.1f}%), at or over its error threshold of "
                   f"{wave.error_threshold}%")
            return
        if wave_count.done:
            wave.state, wave.done_at = WaveState.DONE, now
            wave.save(update_fields=["state", "done_at"])
            _record(rollout, None, WaveState.RUNNING, WaveState.DONE, f"wave {wave.ordinal} done: "
                    f"{wave_count.successes:,} I0, {wave_count.failures:,} failures", wave=wave)
    for wave, after in zip(waves, waves[1:], strict=False):
        if after.state != WaveState.PENDING or wave.state not in (WaveState.RUNNING, WaveState.DONE):
            continue
        wave_count = counts.get(wave.pk) or WaveCounts(members=0, checked=True)
        success = wave_count.share(wave_count.successes) if wave.member_count else Decimal(100)
        if success >= wave.success_threshold:
            if wave.auto_advance:
                _start_wave(rollout, after, None)
            else:
                _ready(rollout, after, f"wave {wave.ordinal} reached its success threshold ({success:.1f}% I0 of "
                       f"{wave.success_threshold}%): wave {after.ordinal} waits for a person to start it")
        elif wave.state == WaveState.DONE:
            if wave.acknowledged_at is not None:
                _ready(rollout, after, f"wave {wave.ordinal} ended below its success threshold and the rollout was "
                       f"resumed: wave {after.ordinal} waits for a person to start it")
            else:
                _pause(rollout, None, f"wave {wave.ordinal} ended with {success:.1f}% I0, below its success "
                       f"threshold of {wave.success_threshold}%: a person decides whether to go on")
                return
        break  # waves go one after the other: only the first pending one is considered
    if awaiting_approval and rollout.state == RolloutState.RUNNING:
        _set_state(rollout, RolloutState.AWAITING_APPROVAL, None, "a wave's batch waits for a second DCC person "
                   "(four eyes)", "rollout.awaiting_approval")
    elif not awaiting_approval and rollout.state == RolloutState.AWAITING_APPROVAL:
        _set_state(rollout, RolloutState.RUNNING, None, "the wave's batch was decided", "")
    _release_retries(rollout, now)
    if all(wave.state in (WaveState.DONE, WaveState.CANCELLED) for wave in waves) and not _retries_open(rollout):
        _set_state(rollout, RolloutState.COMPLETED, None, "every wave is done" + (
            " and every retry" if rollout.retries.exists() else ""), "rollout.completed", ended_at=now)


def _ready(rollout: Rollout, wave: RolloutWave, reason: str) -> None:
    wave.state = WaveState.READY
    wave.save(update_fields=["state"])
    _record(rollout, None, WaveState.PENDING, WaveState.READY, reason, wave=wave, event="rollout.wave_ready")


RESULT_HEADERS = ["device_id", "wave", "attempt", "request_id", "state", "outcome", "failure_class", "message",
                  "received_at", "dsp_sent_at", "responded_at", "completed_at"]


def result_rows(rollout: Rollout) -> Iterable[list[Any]]:
    """One row per member (RESULT_HEADERS): its wave, its latest attempt's request, state, outcome
    and times; a row refused at the check has no request, its code as outcome, state ``refused``;
    a member of a wave not yet sent has state ``pending``. Streamed in the rollout's order."""
    link_checked(rollout.pk)
    refused = {(b, r): (code, message) for b, r, code, message in BatchRow.objects.filter(
        batch__rollout_wave__rollout=rollout, request__isnull=True).values_list("batch_id", "row", "code", "message")}
    members = (RolloutMember.objects.filter(rollout=rollout).order_by("wave__ordinal", "row").values_list(
        "device_ref", "wave__ordinal", "attempt", "wave__batch_id", "row", "request__request_id", "request__state",
        "request__outcome", "request__message", "request__received_at", "request__dsp_sent_at",
        "request__responded_at", "request__completed_at").iterator(chunk_size=5000))
    for ref, ordinal, attempt, batch_id, row, request_id, state, outcome, message, *times in members:
        if request_id is None:
            code, why = refused.get((batch_id, row), ("", ""))
            state, outcome, message = ("refused", code, why) if code else ("pending", "", "")
        klass = failures.class_of(outcome or "", state) if state in (*FAILED_STATES, "refused") else ""
        yield [ref, ordinal, attempt, request_id or "", state, outcome or "", klass, message or "",
               *[t.isoformat() if t else "" for t in times]]


@dataclass
class Estimate:
    """How long the rest of a rollout takes at its pace: ``remaining`` members without a final
    outcome, at ``rate`` per second (the throttle, else the rate of the last ten minutes' sends)."""

    remaining: int
    rate: float | None
    seconds: int | None
    basis: str

    @property
    def text(self) -> str:
        if self.seconds == 0:
            return "nothing left"
        if self.seconds is None:
            return f"{self.remaining:,} devices ({self.basis})"
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        took = f"{hours} h {minutes} min" if hours else (f"{minutes} min {seconds} s" if minutes else f"{seconds} s")
        return f"{self.remaining:,} devices, about {took} at {self.basis}"


def estimate(rollout: Rollout, now: dt.datetime | None = None) -> Estimate:
    now = now or timezone.now()
    remaining = 0
    for wave in rollout.waves.select_related("batch"):
        if wave.state == WaveState.CANCELLED:
            continue
        remaining += max(0, wave.member_count - wave_counts(wave).terminal) if wave.batch_id else wave.member_count
    if rollout.state in ENDED_ROLLOUT_STATES or remaining == 0:
        return Estimate(remaining, None, 0 if remaining == 0 else None, "nothing left to send")
    from adapter.models import SendAttempt

    recent = SendAttempt.objects.filter(request__batch__rollout=rollout, started_at__gt=now - dt.timedelta(minutes=10),
                                        started_at__lte=now).count() / 600
    if rollout.max_per_second:
        rate, basis = float(rollout.max_per_second), f"its throttle of {rollout.max_per_second:,} per second"
        if recent and recent < rate:
            rate, basis = recent, f"the last ten minutes' {recent:.3g} per second (below its throttle)"
    elif recent:
        rate, basis = recent, f"the last ten minutes' {recent:.3g} per second"
    else:
        return Estimate(remaining, None, None, "nothing sent in the last ten minutes: no rate to go by")
    if rollout.window_start is not None:
        basis += "; hours outside its time window not counted"
    return Estimate(remaining, round(rate, 3), math.ceil(remaining / rate), basis)


# --- Dry run ------------------------------------------------------------------------------------

@dataclass
class DryRun:
    """Every device of the population checked as a real send would check it, nothing made or sent:
    counts by outcome (``eligible``, ``quarantined``, or the E-code) and one row per device."""

    counts: dict[str, int]
    rows: list[tuple[str, str, str]]  # (device id, outcome, message)
    checked_at: dt.datetime


def rollout_dry_run(*, rollout: Rollout, actor: User) -> DryRun:
    """Check every device (a draft's population as it is now; a started rollout's members) with the
    submission checks of the batch path, E2, E19, E4, E11, E5, parameters, and the anomaly
    thresholds as they stand (counted in memory, nothing stored). Keeps the counts on the rollout."""
    require(actor, "adapter.rollout.dry_run", rollout)
    if rollout.state == RolloutState.DRAFT:
        refs = [ref for ref, _pk in population(rollout, actor)[0]]
    else:
        refs = list(rollout.members.order_by("wave__ordinal", "row").values_list("device_ref", flat=True))
    checker = services.Checker(rollout.organisation)
    srv, params = rollout.srv, dict(rollout.params)
    counts: dict[str, int] = {}
    rows = []
    for start in range(0, len(refs), tasks.CHECK_CHUNK):
        chunk = refs[start:start + tasks.CHECK_CHUNK]
        checker.prefetch_devices(chunk)
        for ref in chunk:
            check = checker.check(srv, ref, params, None)
            if check.ok:
                checker.count_in(check, srv)
            outcome = (QUARANTINED if check.quarantine else ELIGIBLE) if check.code == OUTCOME_ACKNOWLEDGED \
                else check.code
            counts[outcome] = counts.get(outcome, 0) + 1
            rows.append((check.device_ref or ref, outcome, check.message))
    now = timezone.now()
    Rollout.objects.filter(pk=rollout.pk).update(dry_run_counts=counts, dry_run_at=now)
    rollout.dry_run_counts, rollout.dry_run_at = counts, now
    return DryRun(counts=counts, rows=rows, checked_at=now)

"""The pace of a rollout's sends: its throttle (the most requests in flight and per second, overall
and in each CSP region) and its time window, applied where every request is claimed for sending
(``adapter.tasks``), so there is one engine and no second scheduler.

A paced batch (``Batch.paced``: a batch of a rollout with a throttle or a window) is claimed only
by its own dispatch task, never by the minute's general sweep or the urgent queue's single
requests: those keep their speed whatever a rollout does. Its claims take the rollout's row lock,
so two workers sending one rollout cannot both spend the same second's allowance.

In flight: requests of the rollout handed to the network with no final response yet (``sent``).
Per second: attempts started in the last second (a sliding window over ``SendAttempt.started_at``,
the time of the claim), so over any second no more than the limit leaves.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import Count, Min
from django.utils import timezone

from adapter.choices import AttemptState, RequestState
from adapter.models import Batch, Rollout, SendAttempt, ServiceRequest
from portal.choices import Region

WINDOW = dt.timedelta(seconds=1)
# A request's region is its device's CSP region in the register ("" where the register has none).
REGIONS = (*Region.values, "")
# How long a sender waits before looking again when the in-flight limit is reached: responses
# come from the network, not from this worker, so there is no exact moment to wait for.
IN_FLIGHT_POLL = 0.5


@dataclass
class Allowance:
    """How many of a rollout's requests may be claimed now: ``total`` overall and, when the rollout
    has region limits, at most ``regions[r]`` in region r (a region not listed: none). ``wait``:
    seconds until more may go when nothing may now (None: no later moment is known, e.g. the
    window is shut). ``reason``: why nothing may go."""

    total: int
    regions: dict[str, int] | None = None
    wait: float | None = None
    reason: str = ""
    responses_awaited: bool = False  # the in-flight limit holds it: more may go as responses come
    in_flight: dict[str, int] = field(default_factory=dict)
    last_second: dict[str, int] = field(default_factory=dict)
    blocked: dict[str | None, str] = field(default_factory=dict)  # region (None: overall) -> why it waits
    waits: dict[str | None, float] = field(default_factory=dict)  # region (None: overall) -> seconds

    def stopped_by(self, region_keys: list[str | None] | None) -> None:
        """Nothing may go now: because of the overall limits (None) or those of the regions whose
        requests wait; ``wait`` is the soonest one of them clears, ``reason`` why."""
        keys = [None] if region_keys is None else region_keys
        self.total = 0
        waits = [self.waits[k] for k in keys if k in self.waits]
        self.wait = min(waits) if waits else None
        self.reason = "; ".join(self.blocked[k] for k in keys if k in self.blocked)
        self.responses_awaited = any(self.waits.get(k) == IN_FLIGHT_POLL and "in flight" in self.blocked.get(k, "")
                                     for k in keys)


LONDON = zoneinfo.ZoneInfo("Europe/London")


def in_window(rollout: Rollout, now: dt.datetime) -> bool:
    """Whether ``now`` is inside the rollout's time window (no window: always). The window is in
    Europe/London wall-clock time, so it follows the clock changes: on the last Sunday of March a
    01:00-05:00 window is three hours long (01:00-02:00 does not happen), on the last Sunday of
    October five (01:00-02:00 happens twice, and both are inside)."""
    start, end = rollout.window_start, rollout.window_end
    if start is None or end is None:
        return True
    local = now.astimezone(LONDON).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight


def window_text(rollout: Rollout) -> str:
    if rollout.window_start is None or rollout.window_end is None:
        return "any time"
    return f"{rollout.window_start:%H:%M}-{rollout.window_end:%H:%M} Europe/London"


def rollout_of_paced(batch_id: int) -> int | None:
    """The rollout whose pace the batch keeps, or None (a plain batch, or an unpaced rollout's)."""
    return Batch.objects.filter(pk=batch_id, paced=True).values_list("rollout_id", flat=True).first()


def allowance(rollout: Rollout, *, now: dt.datetime | None = None, cap: int) -> Allowance:
    """What the rollout's throttle lets go now, at most ``cap``. Call inside the claim's transaction
    with the rollout's row locked."""
    now = now or timezone.now()
    if not in_window(rollout, now):
        # nothing until the window opens; the minute's evaluation starts the sender again then
        return Allowance(total=0, reason=f"outside its time window ({window_text(rollout)})")
    in_flight = _by_region(ServiceRequest.objects.filter(batch__rollout=rollout, state=RequestState.SENT))
    recent = SendAttempt.objects.filter(request__batch__rollout=rollout, started_at__gt=now - WINDOW,
                                        state__in=AttemptState.values)
    last_second = _by_region(recent, "request__region")
    result = Allowance(total=cap, in_flight=in_flight, last_second=last_second)
    waits: dict[str | None, list[float]] = {}  # region (None: overall) -> waits of its blockers

    def limit(current: int, most: int | None, qs_region: str | None, what: str) -> int:
        if most is None:
            return cap
        left = max(0, most - current)
        if left == 0:
            if what == "per second":
                oldest = recent.filter(**({"request__region": qs_region} if qs_region is not None else {})).aggregate(
                    first=Min("started_at"))["first"]
                waits.setdefault(qs_region, []).append(max(0.001, ((oldest or now) + WINDOW - now).total_seconds()))
            else:
                waits.setdefault(qs_region, []).append(IN_FLIGHT_POLL)
            result.blocked[qs_region] = f"{what} limit of {most:,}" + (
                f" in the {qs_region} region" if qs_region else "") + " reached"
        return left

    result.total = min(cap, limit(sum(in_flight.values()), rollout.max_in_flight, None, "in flight"),
                       limit(sum(last_second.values()), rollout.max_per_second, None, "per second"))
    if rollout.region_max_in_flight is not None or rollout.region_max_per_second is not None:
        regions = {}
        for region in REGIONS:
            regions[region] = min(
                limit(in_flight.get(region, 0), rollout.region_max_in_flight, region, "in flight"),
                limit(last_second.get(region, 0), rollout.region_max_per_second, region, "per second"))
        result.regions = regions
    result.waits = {key: max(values) for key, values in waits.items()}  # every blocker of a region must clear
    if result.total == 0:
        result.stopped_by(None)
    return result


def _by_region(qs, field_name: str = "region") -> dict[str, int]:
    return dict(qs.order_by().values_list(field_name).annotate(n=Count("id")))

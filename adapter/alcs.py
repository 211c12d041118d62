"""Auxiliary load control in the device simulator, after the seed's working draft (DOMAIN.md 4).

One ``Alcs`` holds a device's switches 1-5 (an ESME's, or an HCALCS's own) as plain JSON so it
can be stored in SimulatedDevice.state. The state of switch n is computed from five inputs, in
this order of precedence: supply (off: every switch open, "fail open"; after restore, open until
the ALC Refresh is answered and the switch's delay timer has run), an override from the HCALCS,
a boost, an ad hoc command in effect (after its one-off random offset; a close with a duration
opens when it ends; a newer command supersedes), and the ALCS calendar. A test flips the
computed state for 5 minutes and then returns the switch to its calendar, recording an event.
All times come from django.utils.timezone.now() so tests freeze them.
"""
import datetime as dt
import random
import zoneinfo

from django.utils import timezone

LONDON = zoneinfo.ZoneInfo("Europe/London")
OPEN, CLOSED = "open", "closed"
SWITCHES = range(1, 6)
BOOST_STEP = dt.timedelta(minutes=15)
BOOST_MAX = dt.timedelta(minutes=60)
TEST_LENGTH = dt.timedelta(minutes=5)
REFRESH_EVERY = dt.timedelta(minutes=1)


class AlcsError(ValueError):
    """A command the switch cannot take (bad switch number, delay out of range, no-override period)."""


def _iso(value):
    return value.isoformat() if value else None


def _at(value):
    return dt.datetime.fromisoformat(value) if value else None


def _flip(state):
    return OPEN if state == CLOSED else CLOSED


class Alcs:
    def __init__(self, data=None):
        data = data or {}
        self.data = {
            "supply": data.get("supply", "on"),
            "restored_at": data.get("restored_at"),
            "refresh_pending": data.get("refresh_pending", False),
            "refresh_requests": data.get("refresh_requests", 0),
            "last_refresh_at": data.get("last_refresh_at"),
            "override": data.get("override"),
            "no_override": data.get("no_override", []),
            "events": data.get("events", []),
            "alerts": data.get("alerts", []),
            "switches": data.get("switches") or {str(n): self._new_switch() for n in SWITCHES},
        }

    @staticmethod
    def _new_switch():
        return {"adhoc": None, "calendar": [], "delay_minutes": 1, "offset_limit": 0, "boost_until": None,
                "test_until": None, "description": ""}

    # --- helpers --------------------------------------------------------------------------------
    def _switch(self, n):
        if n not in SWITCHES:
            raise AlcsError(f"switch {n} does not exist: switches are numbered 1 to 5")
        return self.data["switches"][str(n)]

    def _event(self, name, switch=None, alert=False, **extra):
        record = {"at": _iso(timezone.now()), "event": name, "switch": switch, **extra}
        self.data["events"].append(record)
        if alert:
            self.data["alerts"].append(record)

    def events(self, name=None):
        return [e for e in self.data["events"] if name is None or e["event"] == name]

    def take_alerts(self):
        alerts, self.data["alerts"] = self.data["alerts"], []
        return alerts

    # --- inputs ---------------------------------------------------------------------------------
    def command(self, n, state, *, duration_minutes=None, rng=None):
        """Ad hoc open/close of switch n; supersedes the command in effect."""
        if state not in (OPEN, CLOSED):
            raise AlcsError(f"state must be open or closed, not {state!r}")
        switch = self._switch(n)
        now = timezone.now()
        offset = (rng or random).randint(0, switch["offset_limit"]) if switch["offset_limit"] else 0
        start = now + dt.timedelta(seconds=offset)
        until = start + dt.timedelta(minutes=duration_minutes) if state == CLOSED and duration_minutes else None
        if switch["adhoc"]:
            self._event("command_superseded", n)
        switch["adhoc"] = {"state": state, "from": _iso(start), "until": _iso(until)}
        switch["test_until"] = None
        self._event("command", n, state=state)

    def reset(self, n):
        """Back to the calendar."""
        self._switch(n)["adhoc"] = None
        self._event("reset", n)

    def set_calendar(self, n, periods):
        """Closed periods as [("HH:MM", "HH:MM")], local (Europe/London) time; may cross midnight."""
        for start, end in periods:
            dt.time.fromisoformat(start), dt.time.fromisoformat(end)
        self._switch(n)["calendar"] = [list(p) for p in periods]

    def set_delay(self, n, minutes):
        if not isinstance(minutes, int) or not 1 <= minutes <= 1440:
            raise AlcsError(f"delay timer must be 1 to 1440 minutes, not {minutes!r}")
        self._switch(n)["delay_minutes"] = minutes

    def set_offset_limit(self, n, seconds):
        self._switch(n)["offset_limit"] = int(seconds)

    def set_description(self, n, text):
        self._switch(n)["description"] = text

    def boost(self, n):
        """One press of the boost button: 15 more minutes closed, at most 60 from now."""
        switch = self._switch(n)
        now = timezone.now()
        current = max(_at(switch["boost_until"]) or now, now)
        switch["boost_until"] = _iso(min(current + BOOST_STEP, now + BOOST_MAX))
        self._event("boost", n, until=switch["boost_until"])

    def test(self, n):
        switch = self._switch(n)
        switch["test_until"] = _iso(timezone.now() + TEST_LENGTH)
        self._event("test_started", n)

    def supply_lost(self):
        self.data["supply"] = "off"
        self.data["refresh_pending"] = False
        self._event("supply_lost")
        for n in SWITCHES:
            self._event("fail_open", n)

    def supply_restored(self):
        self.data["supply"] = "on"
        self.data["refresh_pending"] = True
        self.data["restored_at"] = None
        self._event("supply_restored")
        self._request_refresh()

    def _request_refresh(self):
        self.data["refresh_requests"] += 1
        self.data["last_refresh_at"] = _iso(timezone.now())
        self._event("refresh_requested", number=self.data["refresh_requests"], alert=True)

    def answer_refresh(self):
        self.data["refresh_pending"] = False
        self.data["restored_at"] = _iso(timezone.now())
        self._event("refresh_answered")

    def add_no_override_period(self, start, end):
        self.data["no_override"].append([_iso(start), _iso(end)])

    def override(self, n, state, *, minutes):
        """The HCALCS overrides switch n; refused in a no-override period. The meter is told of
        the start (and later the end) by alerts."""
        self._switch(n)
        now = timezone.now()
        for start, end in self.data["no_override"]:
            if _at(start) <= now < _at(end):
                self._event("override_refused", n)
                raise AlcsError("no override is allowed in a no-override period")
        self.data["override"] = {"switch": n, "state": state, "until": _iso(now + dt.timedelta(minutes=minutes))}
        self._event("override_start", n, alert=True, state=state)

    # --- time passes ------------------------------------------------------------------------------
    def tick(self):
        """Let timers run out: refresh repeats, test end, override end, duration end."""
        now = timezone.now()
        if self.data["refresh_pending"] and now - _at(self.data["last_refresh_at"]) >= REFRESH_EVERY:
            self._request_refresh()
        override = self.data["override"]
        if override and now >= _at(override["until"]):
            self.data["override"] = None
            self._event("override_end", override["switch"], alert=True)
        for n in SWITCHES:
            switch = self._switch(n)
            if switch["test_until"] and now >= _at(switch["test_until"]):
                switch["test_until"] = None
                switch["adhoc"] = None  # the test ends with the switch back on its calendar
                self._event("test_ended", n)
            adhoc = switch["adhoc"]
            if adhoc and adhoc["until"] and now >= _at(adhoc["until"]):
                switch["adhoc"] = {"state": OPEN, "from": adhoc["until"], "until": None}
                self._event("duration_ended", n)

    # --- output ---------------------------------------------------------------------------------
    def _calendar_state(self, switch, now):
        local = now.astimezone(LONDON).time()
        for start, end in switch["calendar"]:
            a, b = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
            inside = a <= local < b if a <= b else (local >= a or local < b)
            if inside:
                return CLOSED
        return OPEN

    def state(self, n):
        self.tick()
        now = timezone.now()
        switch = self._switch(n)
        if self.data["supply"] == "off" or self.data["refresh_pending"]:
            return OPEN
        restored = _at(self.data["restored_at"])
        if restored and now < restored + dt.timedelta(minutes=switch["delay_minutes"]):
            return OPEN
        override = self.data["override"]
        adhoc = switch["adhoc"]
        if override and override["switch"] == n:
            base = override["state"]
        elif switch["boost_until"] and now < _at(switch["boost_until"]):
            base = CLOSED
        elif adhoc and _at(adhoc["from"]) <= now and (not adhoc["until"] or now < _at(adhoc["until"])):
            base = adhoc["state"]
        else:
            base = self._calendar_state(switch, now)
        if switch["test_until"] and now < _at(switch["test_until"]):
            return _flip(base)
        return base

    def states(self):
        return {n: self.state(n) for n in SWITCHES}


class Devices:
    """The simulated devices touched by one chunk of requests: loaded once, saved once, so a
    batch of switching commands costs a few queries per chunk, not per request."""

    def __init__(self):
        self.loaded = {}

    def get(self, device_pk):
        from adapter.models import SimulatedDevice

        if device_pk not in self.loaded:
            record, _ = SimulatedDevice.objects.get_or_create(device_id=device_pk)
            self.loaded[device_pk] = (record, Alcs(record.state))
        return self.loaded[device_pk][1]

    def flush(self):
        from adapter.models import SimulatedDevice

        records = []
        for record, alcs in self.loaded.values():
            record.state = alcs.data
            records.append(record)
        SimulatedDevice.objects.bulk_update(records, ["state"], batch_size=200)
        self.loaded = {}


def apply_request(request, *, at=None, devices=None):
    """The simulator's device acting on a 7.x / 6.14.1 request; alerts it raises are stored."""
    own = devices is None
    devices = devices or Devices()
    alcs = devices.get(request.device_id)
    params = request.params or {}
    n = params.get("switch")
    code = request.srv.code
    try:
        if code == "7.5":
            alcs.command(n, CLOSED, duration_minutes=params.get("duration") or None)
        elif code == "7.6":
            alcs.command(n, OPEN)
        elif code == "7.8":
            alcs.reset(n)
        elif code == "7.9":
            for _ in range(params.get("boost_minutes", 15) // 15):
                alcs.boost(n)
        elif code == "7.12":
            for switch in SWITCHES:
                alcs.set_offset_limit(switch, params.get("seconds", 0))
        elif code == "6.14.1":
            alcs.set_description(n, params.get("description", ""))
    except AlcsError as exc:
        alcs._event("command_failed", n, alert=True, reason=str(exc))
    _store_alerts(request, alcs.take_alerts())
    if len(alcs.data["events"]) > 200:
        alcs.data["events"] = alcs.data["events"][-200:]  # the device's event log is a ring buffer
    if own:
        devices.flush()
    return alcs


ALERT_CODES = {"override_start": "0x8F3E", "override_end": "0x8F3F", "command_failed": "0x8F0C",
               "refresh_requested": "0x8F40"}


def _store_alerts(request, alerts):
    from adapter import services

    for index, alert in enumerate(alerts):
        services.alert_receive(
            alert_id=f"SIM-{request.request_id}-{index}", alert_code=ALERT_CODES.get(alert["event"], "0x8F00"),
            device_id=request.device.device_id, raised_at=_at(alert["at"]),
            description=f"ALCS {alert['event'].replace('_', ' ')} (switch {alert.get('switch') or '-'})",
            payload=alert)

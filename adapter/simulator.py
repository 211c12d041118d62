"""The device simulator: how long each leg of a service request takes and how often it fails,
per provider (DSP) and per CSP region, so that simulated traffic gives realistic measures.

Each leg's latency is log-normal (median, spread): most requests are quick, a few are slow,
which is what puts a measure at 99.x% rather than 100%. Every figure can be set with
``configure(...)`` or settings.ADAPTER_SIMULATOR (JSON of the same keys, from the environment).
"""
import datetime as dt
import json
import math
import random
from dataclasses import dataclass, field

DEFAULT_PROFILE = {
    # DSP: User Gateway -> WAN gateway (SM1.1 target 4 s) and back (SM1.6, 1 s)
    "dsp_out": {"median": 0.9, "sigma": 0.55},
    "dsp_in": {"median": 0.2, "sigma": 0.6},
    # HAN and meter processing (excluded from every measure)
    "han": {"median": 2.0, "sigma": 0.5},
    # CSP: across the WAN each way (SM4.1 target 25 s for both legs together), per region
    "csp": {
        "north": {"median": 4.0, "sigma": 0.55},
        "central": {"median": 3.2, "sigma": 0.5},
        "south": {"median": 3.6, "sigma": 0.6},
    },
    # Failure rates per region: E20 cannot communicate, E21 no response from the device
    "fail_e20": {"north": 0.006, "central": 0.003, "south": 0.004},
    "fail_e21": {"north": 0.008, "central": 0.004, "south": 0.006},
    # DCC-only requests answered by DSP alone (SM1.4 target 29 s)
    "dcc_only": {"median": 1.5, "sigma": 0.6},
    # seconds a send takes in the simulator process itself (0: instant; tests of crashes slow it)
    "send_sleep": 0.0,
}


def _load_profile():
    profile = json.loads(json.dumps(DEFAULT_PROFILE))
    from django.conf import settings

    raw = getattr(settings, "ADAPTER_SIMULATOR", "")
    if raw:
        try:
            _merge(profile, json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"ADAPTER_SIMULATOR is not valid JSON of the simulator profile: {exc}") from None
    return profile


def _merge(target, changes):
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


PROFILE = _load_profile()


def configure(**changes):
    """Change the profile in this process, e.g. configure(fail_e20={"north": 0.5})."""
    _merge(PROFILE, changes)


def reset():
    PROFILE.clear()
    PROFILE.update(_load_profile())


def _sample(rng, spec):
    if spec["median"] <= 0:  # latency set to zero (benchmarks): the leg is instant
        return 0.0
    return rng.lognormvariate(math.log(spec["median"]), spec["sigma"])


def _secs(value):
    return dt.timedelta(seconds=value)


@dataclass
class Outcome:
    """What happened to one request: the DUIS code, whether it is final, and the timestamps reached."""

    code: str
    final: bool
    times: dict = field(default_factory=dict)
    body: dict = field(default_factory=dict)
    message: str = ""


def simulate(*, srv_code, non_device, region, start, execute_at=None, device_holds=False, rng=None,
             profile=None):
    """Simulate one request handed to DSP at ``start``. A future-dated request the device holds
    is acknowledged (I99, not final) once delivered; ``respond`` finishes it later."""
    rng = rng or random
    profile = profile or PROFILE
    region = region or "central"
    if non_device:
        responded = start + _secs(_sample(rng, profile["dcc_only"]))
        return Outcome("I0", True, {"responded_at": responded}, body={"Result": "OK"})
    dsp_sent = start + _secs(_sample(rng, profile["dsp_out"]))
    csp = profile["csp"].get(region, profile["csp"]["central"])
    roll = rng.random()
    if roll < profile["fail_e20"].get(region, 0):
        responded = dsp_sent + _secs(_sample(rng, profile["dsp_in"]) + 25)
        return Outcome("E20", True, {"dsp_sent_at": dsp_sent, "responded_at": responded},
                       message="The communications hub could not be reached over the WAN")
    wan_delivered = dsp_sent + _secs(_sample(rng, csp))
    if roll < profile["fail_e20"].get(region, 0) + profile["fail_e21"].get(region, 0):
        responded = wan_delivered + _secs(30)
        return Outcome("E21", True, {"dsp_sent_at": dsp_sent, "wan_delivered_at": wan_delivered,
                                     "responded_at": responded}, message="No response from the device")
    times = {"dsp_sent_at": dsp_sent, "wan_delivered_at": wan_delivered}
    if device_holds and execute_at:
        return Outcome("I99", False, times)
    return respond(srv_code=srv_code, region=region, times=times, at=wan_delivered, rng=rng, profile=profile)


def respond(*, srv_code, region, times, at, rng=None, profile=None):
    """The device answers at ``at`` (plus HAN time); the response travels back to the user."""
    rng = rng or random
    profile = profile or PROFILE
    csp = profile["csp"].get(region or "central", profile["csp"]["central"])
    device_responded = at + _secs(_sample(rng, profile["han"]))
    wan_returned = device_responded + _secs(_sample(rng, csp))
    responded = wan_returned + _secs(_sample(rng, profile["dsp_in"]))
    times = {**times, "device_responded_at": device_responded, "wan_returned_at": wan_returned,
             "responded_at": responded}
    return Outcome("I0", True, times, body=response_body(srv_code, rng))


def response_body(srv_code, rng=None):
    rng = rng or random
    if srv_code.startswith("4."):
        return {"ImportRegister": {"@unit": "kWh", "#text": str(rng.randint(1000, 90000))}}
    if srv_code == "7.4":
        return {"SupplyStatus": rng.choice(["Armed", "Enabled", "Disabled"])}
    if srv_code == "11.2":
        return {"FirmwareVersion": "%08X" % rng.randint(0, 0xFFFFFFFF)}
    return {}

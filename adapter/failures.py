"""The classes of a failed request, by its response code: the ONE table that says what kind of
failure a code is and whether a rollout may retry the devices that failed with it. A retry sends a
new attempt (a new request, a new id) to the same device; retrying makes sense only where the
failure may pass by itself (the network), not where the answer would be the same (the device is
not eligible, the request is wrong).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FailureClass:
    key: str
    label: str
    retried: bool
    codes: frozenset[str]
    explanation: str


FAILURE_CLASSES = (
    FailureClass("communication", "Communication", True, frozenset({"E20", "E21", "E30"}),
                 "the device could not be reached or did not answer in time (E20, E21, E30): it may answer later"),
    FailureClass("eligibility", "Eligibility", False, frozenset({"E4", "E5", "E11", "E19"}),
                 "not allowed for this device now (E4 role, E5 status, E11 type, E19 unknown): the same answer "
                 "would come again"),
    FailureClass("request", "Request", False, frozenset({"E1", "E2", "E40"}),
                 "the request itself was refused (E1 user, E2 role for this SRV, E40 parameters)"),
    # Any other E-code is the device's own answer (its command failed there).
    FailureClass("device", "Device", False, frozenset(),
                 "the device answered with an error of its own (any other E-code)"),
)
BY_KEY = {c.key: c for c in FAILURE_CLASSES}
_BY_CODE = {code: c.key for c in FAILURE_CLASSES for code in c.codes}
RETRIED = tuple(c.key for c in FAILURE_CLASSES if c.retried)


def class_of(code: str, state: str = "") -> str:
    """The class of a failure's code (``state`` timed_out without a code: communication)."""
    code = (code or "").strip()
    if not code:
        return "communication" if state == "timed_out" else "request"
    return _BY_CODE.get(code, "device")

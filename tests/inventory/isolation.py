"""Inventory objects owned by an organisation, for the isolation sweep (tests/portal/test_isolation.py).
Device models and configuration items are reference data every user reads, so they are not here."""
import itertools

from inventory import services
from inventory.choices import DeviceType

_serial = itertools.count(0xB0000)


def owned_objects(organisation, person):
    n = next(_serial)
    hub = services.device_create(device_id=f"00-DB-AA-00-00-0{n >> 16:X}-{(n >> 8) & 0xFF:02X}-{n & 0xFF:02X}",
                                 device_type=DeviceType.CHF, supplier=organisation, region="north",
                                 reason=f"isolation-hub-reason-{organisation.code}")
    meter = services.device_create(device_id=f"00-DB-BB-00-00-0{n >> 16:X}-{(n >> 8) & 0xFF:02X}-{n & 0xFF:02X}",
                                   device_type=DeviceType.ESME, supplier=organisation, region="north", hub=hub,
                                   mpxn="2200012345671", reason=f"isolation-meter-reason-{organisation.code}")
    switch = services.switch_set(device=meter, number=1, description=f"isolation-switch-{organisation.code}",
                                 state="closed", actor=None)
    history = meter.status_history.get()
    return [(hub, hub.device_id), (meter, meter.device_id), (switch, switch.description),
            (history, history.reason)]

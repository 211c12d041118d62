"""Small helpers that build inventory records through the services (as real callers do)."""
import itertools

from inventory import services
from inventory.choices import DeviceType, SMIStatus

_serial = itertools.count(1)


def eui(n=None):
    n = next(_serial) if n is None else n
    value = f"00DB{n:012X}"
    return "-".join(value[i:i + 2] for i in range(0, 16, 2))


def device(supplier, device_type=DeviceType.ESME, *, status=SMIStatus.PENDING, region="north", hub=None,
           device_id=None, **extra):
    device_id = eui() if device_id is None else device_id
    return services.device_create(device_id=device_id, device_type=device_type, supplier=supplier, region=region,
                                  status=status, hub=hub, **extra)

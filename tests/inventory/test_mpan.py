"""MPANs as the industry writes them: the full 21 digits (top line and core) or the core; the
distributor id checked before the check digit, each failure with its own message naming the
field (and, in an import, the row); the parts stored on the device; generated MPANs valid."""
import random

import pytest
from django.core.exceptions import ValidationError

from inventory import generate, importers, services
from inventory.choices import DeviceType
from inventory.validators import DISTRIBUTORS, mpan_check_digit, normalise_mpan, parse_mpan

from .factories import device, eui

PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)


def core(first12):
    return first12 + str(sum(int(d) * p for d, p in zip(first12, PRIMES, strict=True)) % 11 % 10)


FULL = "S 01 801 100 / 22 0001 2345 671"  # profile class 01, MTC 801, LLFC 100, core 2200012345671


def test_full_mpan_is_split_into_its_top_line_and_core():
    mpan = parse_mpan(FULL)
    assert (mpan.profile_class, mpan.meter_timeswitch_code, mpan.line_loss_factor_class, mpan.core) == (
        "01", "801", "100", "2200012345671")
    assert mpan.is_full and mpan.full == "018011002200012345671" and mpan.distributor_id == "22"
    assert "South West" in mpan.distributor
    assert parse_mpan("018011002200012345671") == mpan
    assert normalise_mpan(FULL) == "2200012345671"


def test_a_core_alone_has_no_top_line():
    mpan = parse_mpan("22 0001 2345 671")
    assert mpan.core == "2200012345671" and not mpan.is_full and mpan.full == "2200012345671"
    assert mpan.profile_class == mpan.meter_timeswitch_code == mpan.line_loss_factor_class == ""


def test_every_known_distributor_is_accepted_and_no_other():
    assert set(DISTRIBUTORS) == {str(n) for n in range(10, 39)}
    for number in range(100):
        candidate = core(f"{number:02d}0001234567")
        if 10 <= number <= 38:
            assert normalise_mpan(candidate) == candidate
        else:
            with pytest.raises(ValidationError) as exc:
                normalise_mpan(candidate, field="mpxn")
            assert exc.value.code == "mpan_distributor"
            assert f"mpxn {candidate!r} has an unknown distributor id {number:02d}" in exc.value.messages[0]


def test_distributor_and_check_digit_failures_say_different_things():
    wrong_distributor = core("990001234567")  # right check digit, no such distributor
    wrong_digit = "2200012345672"  # a DNO, wrong check digit
    with pytest.raises(ValidationError) as distributor:
        parse_mpan(wrong_distributor, field="mpxn")
    with pytest.raises(ValidationError) as digit:
        parse_mpan(wrong_digit, field="mpxn")
    assert distributor.value.code == "mpan_distributor" and digit.value.code == "mpan_check_digit"
    assert "unknown distributor id 99" in distributor.value.messages[0]
    assert "check digit" not in distributor.value.messages[0]
    assert "wrong check digit: 2 given, 1 expected" in digit.value.messages[0]
    assert "distributor" not in digit.value.messages[0]
    # An unknown distributor is reported even when the check digit is wrong too: it comes first.
    with pytest.raises(ValidationError) as both:
        parse_mpan("9900012345670")
    assert both.value.code == "mpan_distributor"


def test_full_mpan_top_line_and_core_are_each_checked():
    with pytest.raises(ValidationError) as exc:
        parse_mpan("098011002200012345671")
    assert exc.value.code == "mpan_profile_class" and "profile class 09" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        parse_mpan("018011002200012345672")
    assert exc.value.code == "mpan_check_digit"
    with pytest.raises(ValidationError) as exc:
        parse_mpan("018011009900012345671")
    assert exc.value.code == "mpan_distributor"
    for shape in ("01801100220001234567", "0180110022000123456711", "01801100220001234567A", "S2200012345671"):
        with pytest.raises(ValidationError) as exc:
            parse_mpan(shape)
        assert exc.value.code == "invalid_mpan" and "21-digit" in exc.value.messages[0]


def test_device_keeps_the_parts_of_a_full_mpan(orgs):
    meter = device(orgs["SUPA"], DeviceType.ESME, mpxn=FULL)
    meter.refresh_from_db()
    assert meter.mpxn == "2200012345671"
    assert (meter.mpan_profile_class, meter.mpan_meter_timeswitch_code, meter.mpan_line_loss_factor_class) == (
        "01", "801", "100")
    assert meter.full_mpan == "018011002200012345671"
    # The same core again keeps the top line; a new core alone drops the old top line.
    services.device_update(device=meter, actor=None, mpxn="2200012345671")
    meter.refresh_from_db()
    assert meter.full_mpan == "018011002200012345671"
    other = core("120002330596")
    services.device_update(device=meter, actor=None, mpxn=other)
    meter.refresh_from_db()
    assert meter.mpxn == other and meter.full_mpan == other and meter.mpan_profile_class == ""
    with pytest.raises(ValidationError) as exc:
        services.device_update(device=meter, actor=None, mpxn=core("990001234567"))
    assert "unknown distributor id 99" in " ".join(exc.value.message_dict["mpxn"])


def test_a_gas_meter_has_no_mpan_top_line(orgs):
    from inventory.models import Device

    gas = Device(device_id=eui(), device_type=DeviceType.GSME, supplier=orgs["SUPA"], region="north",
                 mpxn="7412365", mpan_profile_class="01")
    with pytest.raises(ValidationError, match="no MPAN top line"):
        gas.full_clean()
    with pytest.raises(ValidationError, match="not an MPRN"):
        device(orgs["SUPA"], DeviceType.GSME, mpxn=FULL)


HEADER = "device_id,device_type,manufacturer,model,firmware_version,status,supplier,mpxn,region,hub_id\n"


def test_import_names_the_row_field_and_which_check_failed(orgs, dcc_operator):
    good, bad_distributor, bad_digit = eui(), eui(), eui()
    rows = [
        f"{good},ESME,,,,pending,SUPA,{FULL},north,",
        f"{bad_distributor},ESME,,,,pending,SUPA,{core('990001234567')},north,",
        f"{bad_digit},ESME,,,,pending,SUPA,2200012345672,north,",
    ]
    preview = importers.run((HEADER + "\n".join(rows) + "\n").encode(), filename="devices.csv", actor=dcc_operator)
    results = {r.row: r for r in preview.results}
    assert results[2].ok
    assert results[3].error.startswith("mpxn: ") and "unknown distributor id 99" in results[3].error
    assert "check digit" not in results[3].error
    assert results[4].error.startswith("mpxn: ") and "wrong check digit: 2 given, 1 expected" in results[4].error
    assert not preview.clean
    # Fixed, the file commits and the full MPAN's parts are stored.
    fixed = (HEADER + rows[0] + "\n").encode()
    assert importers.run(fixed, filename="devices.csv", commit=True, actor=dcc_operator).committed
    from inventory.models import Device

    stored = Device.objects.get(device_id=good)
    assert stored.mpxn == "2200012345671" and stored.full_mpan == "018011002200012345671"


def test_api_accepts_a_full_mpan_and_answers_the_core(orgs, dcc_operator, api_for):
    api = api_for(dcc_operator)
    response = api.post("/api/devices/", {"device_id": eui(), "device_type": "ESME", "supplier": "SUPA",
                                          "region": "north", "mpxn": FULL}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["mpxn"] == "2200012345671"
    assert response.json()["full_mpan"] == "018011002200012345671"
    response = api.post("/api/devices/", {"device_id": eui(), "device_type": "ESME", "supplier": "SUPA",
                                          "region": "north", "mpxn": core("990001234567")}, format="json")
    assert response.status_code == 400 and "unknown distributor id 99" in str(response.json())


def test_search_by_a_full_mpan_finds_the_core(orgs):
    from inventory.models import Device
    from inventory.selectors import device_search_q

    meter = device(orgs["SUPA"], DeviceType.ESME, mpxn="2200012345671")
    assert list(Device.objects.filter(device_search_q(FULL))) == [meter]


def test_generated_mpans_are_valid_cores():
    rng = random.Random(7)
    for region in generate.REGIONS:
        for _ in range(200):
            value = generate.mpan(rng, region)
            assert normalise_mpan(value) == value


def test_bench_mpans_are_valid_cores():
    from bench import datagen

    for g in (0, 4, 8, 123456, 999996):
        value = datagen.device_mpan(g)
        assert len(value) == 13 and normalise_mpan(value) == value
        assert value[12] == str(mpan_check_digit(value[:12]))


@pytest.mark.postgres
def test_bench_sql_computes_the_same_mpans(db):
    from django.db import connection

    from bench import datagen
    from inventory.models import Device

    if connection.vendor != "postgresql":
        pytest.skip("the bench generates its devices in PostgreSQL")
    datagen.organisations_and_people()
    datagen.devices(40)
    meters = Device.objects.filter(device_type=DeviceType.ESME)
    assert meters.count() == 10
    for meter in meters:
        g = int(meter.device_id.replace("-", ""), 16) - datagen.DEVICE_BASE
        assert meter.mpxn == datagen.device_mpan(g) == normalise_mpan(meter.mpxn)

"""Inventory services: supply point numbers, SMI transitions, hub joining, bulk changes,
model withdrawal and the configuration item graph."""
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from inventory import selectors, services
from inventory.choices import SMI_TRANSITIONS, DeviceModelStatus, DeviceType, ItemKind, RelationshipKind, SMIStatus
from inventory.models import Device, DeviceStatusChange
from inventory.validators import mpan_check_digit, normalise_mpan, normalise_mprn
from portal.ids import normalise_eui64

from .factories import device

PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)


def formula(first12):
    return sum(int(d) * p for d, p in zip(first12, PRIMES, strict=True)) % 11 % 10


# --- identifiers ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["00-DB-12-34-56-78-90-A0", "00db1234567890a0", "00:DB:12:34:56:78:90:A0",
                                 "00-db-12-34-56-78-90-a0"])
def test_eui64_forms_normalise_to_one(raw):
    assert normalise_eui64(raw) == "00-DB-12-34-56-78-90-A0"


@pytest.mark.parametrize("raw", ["00-DB-12-34-56-78-90", "00db1234567890a0ff", "00-DB-12-34-56-78-90-G0",
                                 "00db-1234567890a0", ""])
def test_malformed_device_id_refused_with_clear_message(orgs, raw):
    with pytest.raises(ValidationError) as exc:
        device(orgs["SUPA"], device_id=raw)
    assert "not an EUI-64" in str(exc.value)
    assert Device.objects.count() == 0


# --- MPAN / MPRN ----------------------------------------------------------------------------

@pytest.mark.parametrize("first12", ["120002330596", "180000000001", "220001234567", "100000000000",
                                     "380000000009"])
def test_mpan_with_computed_check_digit_is_valid(first12):
    digit = formula(first12)
    assert mpan_check_digit(first12) == digit
    assert normalise_mpan(first12 + str(digit)) == first12 + str(digit)


def test_mpan_of_an_unknown_distributor_is_refused_before_its_check_digit():
    # 99 is no distributor's id: the right check digit does not make it an MPAN (this sample was
    # a "valid" one before distributor ids were checked).
    digit = formula("999999999999")
    assert mpan_check_digit("999999999999") == digit
    with pytest.raises(ValidationError, match="unknown distributor id 99"):
        normalise_mpan("999999999999" + str(digit))


def test_mpan_hand_computed_sample():
    # 2*3+2*5+0+0+0+1*19+2*23+3*29+4*31+5*37+6*41+7*43 = 1024; 1024 mod 11 = 1; 1 mod 10 = 1
    assert normalise_mpan("22 0001 2345 671") == "2200012345671"


@pytest.mark.parametrize("first12", ["120002330596", "220001234567"])
def test_mpan_with_any_other_check_digit_is_refused(first12):
    good = formula(first12)
    for digit in set(range(10)) - {good}:
        with pytest.raises(ValidationError) as exc:
            normalise_mpan(first12 + str(digit))
        assert f"wrong check digit: {digit} given, {good} expected" in str(exc.value)


@pytest.mark.parametrize("raw", ["123", "12000233059671", "12000233059A7"])
def test_mpan_of_wrong_shape_is_refused(raw):
    with pytest.raises(ValidationError, match="not an MPAN core"):
        normalise_mpan(raw)


@pytest.mark.parametrize("raw,ok", [("123456", True), ("1234567890", True), ("12345", False),
                                    ("12345678901", False), ("12345a", False)])
def test_mprn_is_six_to_ten_digits(raw, ok):
    if ok:
        assert normalise_mprn(raw) == raw
    else:
        with pytest.raises(ValidationError, match="not an MPRN"):
            normalise_mprn(raw)


def test_meter_supply_points_checked_by_type(orgs):
    esme = device(orgs["SUPA"], DeviceType.ESME, mpxn="2200012345671")
    assert esme.mpxn == "2200012345671"
    with pytest.raises(ValidationError, match="wrong check digit"):
        device(orgs["SUPA"], DeviceType.ESME, mpxn="2200012345672")
    assert device(orgs["SUPA"], DeviceType.GSME, mpxn="7412365").mpxn == "7412365"
    with pytest.raises(ValidationError, match="not an MPRN"):
        device(orgs["SUPA"], DeviceType.GSME, mpxn="2200012345671")
    with pytest.raises(ValidationError, match="has no supply point"):
        device(orgs["SUPA"], DeviceType.IHD, mpxn="7412365")


# --- SMI status transitions -----------------------------------------------------------------

def test_normal_life_is_recorded_in_history(orgs, dcc_operator):
    meter = device(orgs["SUPA"])
    for status in ["whitelisted", "installed_not_commissioned", "commissioned", "decommissioned"]:
        meter = services.device_set_status(device=meter, status=status, reason="step", actor=dcc_operator)
    assert meter.status == "decommissioned"
    assert meter.installed_at and meter.commissioned_at
    history = list(DeviceStatusChange.objects.filter(device=meter).order_by("id").values_list(
        "from_status", "to_status"))
    assert history == [("", "pending"), ("pending", "whitelisted"), ("whitelisted", "installed_not_commissioned"),
                       ("installed_not_commissioned", "commissioned"), ("commissioned", "decommissioned")]
    assert DeviceStatusChange.objects.filter(device=meter, actor=dcc_operator).count() == 4


def test_illegal_transition_refused_naming_allowed(orgs, dcc_operator):
    meter = device(orgs["SUPA"])
    with pytest.raises(ValidationError) as exc:
        services.device_set_status(device=meter, status="commissioned", reason="skip", actor=dcc_operator)
    assert "cannot go from Pending to Commissioned; allowed: Whitelisted, Withdrawn" in str(exc.value)
    meter.refresh_from_db()
    assert meter.status == "pending"
    assert DeviceStatusChange.objects.filter(device=meter).count() == 1


@pytest.mark.parametrize("start,target", [(s, t) for s in SMIStatus for t in SMIStatus if s != t])
def test_every_pair_follows_the_table(orgs, dcc_operator, start, target):
    meter = device(orgs["SUPA"], status=start)
    if target in SMI_TRANSITIONS[start]:
        assert services.device_set_status(device=meter, status=target, reason="r", actor=dcc_operator).status == target
    else:
        with pytest.raises(ValidationError, match="allowed: "):
            services.device_set_status(device=meter, status=target, reason="r", actor=dcc_operator)


def test_withdrawn_is_final_and_commissioned_cannot_be_withdrawn(orgs, dcc_operator):
    meter = device(orgs["SUPA"], status="commissioned")
    with pytest.raises(ValidationError, match="allowed: Decommissioned, Suspended, Recovery"):
        services.device_set_status(device=meter, status="withdrawn", reason="r", actor=dcc_operator)
    gone = device(orgs["SUPA"], status="withdrawn")
    with pytest.raises(ValidationError, match=r"allowed: none \(it is final\)"):
        services.device_set_status(device=gone, status="pending", reason="r", actor=dcc_operator)


def test_status_change_needs_reason_and_is_audited(orgs, dcc_operator):
    from auditlog.models import LogEntry

    meter = device(orgs["SUPA"])
    with pytest.raises(ValidationError, match="reason"):
        services.device_set_status(device=meter, status="whitelisted", reason=" ", actor=dcc_operator)
    services.device_set_status(device=meter, status="whitelisted", reason="added to log", actor=dcc_operator)
    entry = LogEntry.objects.get_for_object(meter).filter(actor=dcc_operator).first()
    assert entry.changes_dict["status"] == ["pending", "whitelisted"]


def test_bulk_change_is_all_or_nothing(orgs, dcc_operator):
    ok = [device(orgs["SUPA"]) for _ in range(3)]
    stuck = device(orgs["SUPA"], status="commissioned")
    with pytest.raises(ValidationError) as exc:
        services.device_bulk_set_status(devices=Device.objects.all(), status="whitelisted", reason="batch",
                                        actor=dcc_operator)
    assert "1 of 4 devices cannot change, nothing changed" in str(exc.value)
    assert stuck.device_id in str(exc.value)
    assert set(Device.objects.values_list("status", flat=True)) == {"pending", "commissioned"}
    count = services.device_bulk_set_status(devices=Device.objects.filter(pk__in=[d.pk for d in ok]),
                                            status="whitelisted", reason="batch", actor=dcc_operator)
    assert count == 3
    assert DeviceStatusChange.objects.filter(to_status="whitelisted", reason="batch").count() == 3


# --- hub joining ----------------------------------------------------------------------------

def test_hub_joining_rules(orgs, dcc_operator):
    hub = device(orgs["SUPA"], DeviceType.CHF)
    meter = device(orgs["SUPA"], DeviceType.ESME, hub=hub)
    assert meter.hub == hub
    ihd = device(orgs["SUPA"], DeviceType.IHD, hub=meter)
    ppmid = device(orgs["SUPA"], DeviceType.PPMID, hub=hub)
    assert set(hub.joined_devices.all()) == {meter, ppmid}
    assert list(meter.joined_devices.all()) == [ihd]
    with pytest.raises(ValidationError, match="joins a communications hub"):
        device(orgs["SUPA"], DeviceType.GSME, hub=ihd)
    with pytest.raises(ValidationError, match="joins a meter or a communications hub"):
        services.device_join_hub(device=ppmid, hub=ihd, actor=dcc_operator)
    with pytest.raises(ValidationError, match="joined to itself"):
        services.device_join_hub(device=meter, hub=meter, actor=dcc_operator)
    with pytest.raises(ValidationError, match="is not joined to another device"):
        services.device_join_hub(device=hub, hub=device(orgs["SUPA"], DeviceType.CHF), actor=dcc_operator)
    with pytest.raises(ValidationError, match="region"):
        device(orgs["SUPA"], DeviceType.ESME, hub=hub, region="south")


def test_unknown_hub_and_hub_of_another_supplier(orgs, supplier_a):
    with pytest.raises(ValidationError, match="unknown hub 00-DB-FF-FF-FF-FF-FF-FF"):
        services.hub_from_id("00dbffffffffffff")
    theirs = device(orgs["SUPB"], DeviceType.CHF)
    with pytest.raises(ValidationError, match="unknown hub"):
        services.hub_from_id(theirs.device_id, actor=supplier_a)
    with pytest.raises(ValidationError, match="unknown hub"):
        services.device_join_hub(device=device(orgs["SUPA"], DeviceType.ESME), hub=theirs, actor=supplier_a)
    # Registering one device is DCC's: a supplier is refused before the hub is looked at.
    with pytest.raises(PermissionDenied, match="device import"):
        device(orgs["SUPA"], DeviceType.ESME, hub=theirs, actor=supplier_a)


def test_switches_only_on_esme_numbered_1_to_5(orgs, dcc_operator):
    meter = device(orgs["SUPA"], DeviceType.ESME)
    switch = services.switch_set(device=meter, number=2, description="storage heater", state="closed",
                                 actor=dcc_operator)
    assert list(meter.switches.values_list("number", "state")) == [(2, "closed")]
    services.switch_set(device=meter, number=2, state="open", actor=dcc_operator)
    switch.refresh_from_db()
    assert (switch.state, switch.description) == ("open", "storage heater")
    with pytest.raises(ValidationError):
        services.switch_set(device=meter, number=6, actor=dcc_operator)
    with pytest.raises(ValidationError, match="Only an ESME"):
        services.switch_set(device=device(orgs["SUPA"], DeviceType.GSME), number=1, actor=dcc_operator)


# --- device models --------------------------------------------------------------------------

def test_model_withdrawal_lists_affected_devices(orgs, dcc_operator, dcc_admin):
    model = services.device_model_upsert(manufacturer_id="1234", model_id="E470", device_type="ESME",
                                         firmware_versions=["1.0", "1.1"])
    other = services.device_model_upsert(manufacturer_id="1234", model_id="E480", device_type="ESME")
    mine = [device(orgs["SUPA"], model=model), device(orgs["SUPB"], model=model)]
    device(orgs["SUPA"], model=other)
    with pytest.raises(ValidationError, match="is a ESME model, not GSME"):
        device(orgs["SUPA"], DeviceType.GSME, model=model)
    affected = services.device_model_withdraw(device_model=model, reason="security", actor=dcc_operator)
    assert set(affected) == set(mine)
    model.refresh_from_db()
    assert model.status == DeviceModelStatus.WITHDRAWN and model.withdrawn_reason == "security"
    with pytest.raises(ValidationError, match="already withdrawn"):
        services.device_model_withdraw(device_model=model, reason="again", actor=dcc_operator)
    assert mail.outbox == []  # no named recipients: the event is logged for watchers


# --- configuration items --------------------------------------------------------------------

@pytest.fixture
def items(db):
    def item(key):
        return services.item_upsert(key=key, name=key.upper(), kind=ItemKind.SYSTEM)

    return {key: item(key) for key in ["a", "b", "c", "d", "e", "f"]}


def link(source, target, kind=RelationshipKind.DEPENDS_ON):
    return services.relationship_create(source=source, kind=kind, target=target)


def test_relationships_refuse_self_links_and_duplicates(items):
    link(items["b"], items["a"])
    with pytest.raises(ValidationError, match="already depends on"):
        link(items["b"], items["a"])
    with pytest.raises(ValidationError, match="cannot be related to itself"):
        link(items["a"], items["a"])
    link(items["b"], items["a"], RelationshipKind.CONNECTS_TO)  # another kind is another edge


def test_impact_with_diamond_and_cycle(items, django_assert_max_num_queries):
    a, b, c, d, e, f = (items[k] for k in "abcdef")
    # diamond: b and c depend on a; d depends on both b and c
    link(b, a)
    link(c, a)
    link(d, b)
    link(d, c)
    # cycle: e depends on d, d connects to e (so e -> d -> e)
    link(e, d)
    link(d, e, RelationshipKind.CONNECTS_TO)
    # f is a part of a: a's failure does not reach f, but f's failure reaches a
    link(f, a, RelationshipKind.PART_OF)
    with django_assert_max_num_queries(2):
        results = selectors.impact_of(a)
    found = {item.key: [step.key for step, _ in path] for item, path in results}
    assert found == {"b": ["a", "b"], "c": ["a", "c"], "d": ["a", "b", "d"], "e": ["a", "b", "d", "e"]}
    assert [r.kind for _, r in [step for _, path in results for step in path[1:]]][:2] == ["depends_on"] * 2
    assert {i.key for i, _ in selectors.impact_of(f)} == {"a", "b", "c", "d", "e"}
    assert {i.key for i, _ in selectors.impact_of(e)} == {"d"}
    figure = selectors.impact_figure(a, results)
    assert "Affected if A fails or changes" in figure.to_json()
    # The layered layout: a column per distance, each column centred, no two items on one spot.
    position = selectors.impact_layout(a, results)
    assert position[a.pk] == (0.0, 0.0)
    assert {position[b.pk], position[c.pk]} == {(1.0, 0.5), (1.0, -0.5)}
    assert position[d.pk] == (2.0, 0.0) and position[e.pk] == (3.0, 0.0)
    assert len(set(position.values())) == len(position)
    from portal import charts

    assert figure.layout.template.layout.font.family == charts.FONT
    lines, hover, nodes = figure.data
    assert lines.mode == "lines" and nodes.mode == "markers+text" and hover.mode == "markers"
    assert list(nodes.text) == ["A", "B", "C", "D", "E"]
    assert len(figure.layout.annotations) == len(results)  # one arrow per step
    assert "B depends on A" in hover.text

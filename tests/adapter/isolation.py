"""Objects of the adapter that belong to an organisation (for the isolation sweep): a request,
a batch with a row, a rollout (its wave is that batch) with a member and an event, an alert, an
anomaly threshold, DCC's floor under it and a pending change of it, each with a marker its pages
would show."""
from django.utils import timezone

from adapter import catalogue
from adapter.models import (
    Alert,
    AnomalyThreshold,
    Batch,
    BatchRow,
    Rollout,
    RolloutEvent,
    RolloutMember,
    RolloutWave,
    ServiceRequest,
    ServiceRequestVariant,
    ThresholdChange,
    ThresholdFloor,
)
from inventory import services as inventory_services


def owned_objects(organisation, person):
    catalogue.load(ServiceRequestVariant)
    srv = ServiceRequestVariant.objects.get(code="4.1.1")
    device = inventory_services.device_create(device_id="00-DB-AD-AD-AD-AD-AD-01", device_type="ESME",
                                              supplier=organisation, region="south", status="commissioned")
    now = timezone.now()
    batch = Batch.objects.create(organisation=organisation, user=person, name="Batch marker ISO-BATCH-7",
                                 source=b"srv,device_id\n", state="completed", total_rows=1)
    request = ServiceRequest.objects.create(
        request_id=f"{organisation.user_id}:{device.device_id}:424242", srv=srv, organisation=organisation,
        user=person, device=device, device_ref=device.device_id, region="south", measurement_type="on_demand",
        state="queued", outcome="I99", params={}, received_at=now, start_at=now, batch=batch,
        message="ISO-REQ-MESSAGE-9")
    BatchRow.objects.create(batch=batch, row=2, srv_code="4.1.1", device_ref=device.device_id, code="I99",
                            message="ISO-ROW-MESSAGE-3", request=request)
    alert = Alert.objects.create(alert_id="ISO-ALERT-5", alert_code="0x8F3E", organisation=organisation,
                                 device=device, region="south", raised_at=now, description="ISO-ALERT-DESC")
    threshold = AnomalyThreshold.objects.create(organisation=organisation, srv=srv, period="day", limit=4321,
                                                note="ISO-THRESHOLD-NOTE")
    floor = ThresholdFloor.objects.create(organisation=organisation, srv=srv, period="day", limit=8291763)
    change = ThresholdChange.objects.create(organisation=organisation, threshold=threshold, srv=srv, period="day",
                                            limit=7340917, note="ISO-CHANGE-NOTE", requested_by=person)
    rollout = Rollout.objects.create(organisation=organisation, created_by=person, name="Rollout marker ISO-ROLLOUT-4",
                                     srv=srv, population_source="list", device_list=device.device_id,
                                     state="running", population_size=1, started_at=now, started_by=person)
    wave = RolloutWave.objects.create(rollout=rollout, ordinal=1, size_kind="percent", size=100, state="running",
                                      member_count=1, batch=batch, started_at=now)
    RolloutMember.objects.create(rollout=rollout, wave=wave, row=1, device=device, device_ref=device.device_id,
                                 request=request)
    RolloutEvent.objects.create(rollout=rollout, wave=wave, actor=person, at=now, from_state="draft",
                                to_state="running", reason="ISO-ROLLOUT-EVENT-8")
    return [(request, "424242"), (batch, "ISO-BATCH-7"), (rollout, "ISO-ROLLOUT-4"),
            (wave, "ISO-ROLLOUT-EVENT-8"), (alert, "ISO-ALERT-5"), (threshold, "ISO-THRESHOLD-NOTE"),
            (floor, "8291763"), (change, "7340917")]

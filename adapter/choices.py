"""Choices of the adapter app. Every status is a TextChoices; COLOURS gives its badge colour."""
from django.db import models


class MeasurementType(models.TextChoices):
    """The six basic service request types of the service measures (DOMAIN.md section 5)."""

    ON_DEMAND = "on_demand", "On-demand"
    FUTURE_DATED = "future_dated", "Future-dated"
    FIRMWARE = "firmware", "Firmware delivery"
    DCC_ONLY = "dcc_only", "DCC-only"
    DSP_SCHEDULED = "dsp_scheduled", "DSP-scheduled"
    METER_SCHEDULED = "meter_scheduled", "Meter-scheduled"


class FuturePattern(models.TextChoices):
    NONE = "No", "Not future-datable"
    DSP = "DSP", "DSP holds it"
    DEVICE = "Device", "Device holds it"
    BOTH = "DSP & Device", "DSP or device"


class RequestState(models.TextChoices):
    RECEIVED = "received", "Received"
    # Held before sending: a second DCC person must approve (four eyes), then a critical request's
    # pre-command must be signed by the requesting organisation's own key.
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    AWAITING_SIGNATURE = "awaiting_signature", "Awaiting signature"
    # Sent by the duis backend for an organisation that signs its own DUIS messages (it has not
    # delegated message signing): held until its signed document arrives.
    AWAITING_DOCUMENT = "awaiting_document", "Awaiting signed document"
    QUARANTINED = "quarantined", "Quarantined"
    REJECTED = "rejected", "Rejected"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    RESPONDED = "responded", "Responded"
    FAILED = "failed", "Failed"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL = (
    RequestState.RESPONDED, RequestState.FAILED, RequestState.TIMED_OUT, RequestState.REJECTED,
    RequestState.CANCELLED,
)
# Requests not yet handed to the network: a cancel still reaches them.
CANCELLABLE = (
    RequestState.RECEIVED, RequestState.AWAITING_APPROVAL, RequestState.AWAITING_SIGNATURE,
    RequestState.AWAITING_DOCUMENT, RequestState.QUARANTINED,
    RequestState.QUEUED,
)


class BatchState(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    VALIDATING = "validating", "Checking rows"
    # A DCC batch over ADAPTER_FOUR_EYES_BATCH_SIZE rows: checked in full, then held (its requests
    # awaiting approval) until a second DCC person approves (it runs) or declines it.
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    DECLINED = "declined", "Declined"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


# A batch still at work: its page polls for progress.
LIVE_BATCH_STATES = (BatchState.UPLOADED, BatchState.VALIDATING, BatchState.RUNNING)
# A batch that ran to its end (a cancelled one stops where it was).
FINISHED_BATCH_STATES = (BatchState.COMPLETED, BatchState.FAILED, BatchState.DECLINED)
# The row codes of a batch's accepted rows: acknowledged (I99) or held in quarantine (Q).
ACCEPTED_ROW_CODES = ("I99", "Q")


class CertificateUsage(models.TextChoices):
    """What a certificate's key signs (DCC's PKI issues one certificate per use, as SMKI does)."""

    MESSAGE_SIGNING = "message_signing", "DUIS message signing"
    COMMAND_SIGNING = "command_signing", "Critical command (pre-command) signing"
    HEADEND = "headend", "Head-end response signing"


class CertificateState(models.TextChoices):
    PENDING = "pending", "Awaiting DCC approval"
    APPROVED = "approved", "Approved"
    REVOKED = "revoked", "Revoked"


class ThresholdChangeState(models.TextChoices):
    PENDING = "pending", "Awaiting DCC approval"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class AttemptState(models.TextChoices):
    SENDING = "sending", "Sending"
    DONE = "done", "Done"
    LOST = "lost", "Lost (worker stopped)"


class ThresholdPeriod(models.TextChoices):
    HOUR = "hour", "Per hour"
    DAY = "day", "Per day"


class AlertChannel(models.TextChoices):
    PORTAL = "portal", "Portal list only"
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


# The outcome codes the adapter's own logic compares: a request that passed every check is
# acknowledged at once (I99); a device that answered is a success (I0). CODES gives each its text.
OUTCOME_ACKNOWLEDGED = "I99"
OUTCOME_SUCCESS = "I0"
# A critical request whose pre-command was never signed in time: never sent (the portal's code).
OUTCOME_UNSIGNED = "S"

# DUIS response codes the adapter produces, with readable text.
CODES = {
    "I0": "Success: the device responded",
    "I99": "Acknowledged: passed access control, on its way",
    "E1": "Invalid user or role",
    "E2": "Your role may not send this service request",
    "E4": "Your organisation is not responsible for this device now",
    "E5": "The device's status does not allow this request",
    "E11": "This service request does not apply to this device type",
    "E19": "Device unknown",
    "E20": "Cannot communicate with the device",
    "E21": "No response from the device",
    "E30": "Future-dated command timed out",
    "E40": "Invalid parameters",
    "Q": "Quarantined: anomaly threshold exceeded",
    "C": "Cancelled by the user",
    "S": "Not sent: the pre-command was not signed in time",
}

COLOURS = {
    RequestState.RECEIVED: "blue",
    RequestState.AWAITING_APPROVAL: "amber",
    RequestState.AWAITING_SIGNATURE: "amber",
    RequestState.AWAITING_DOCUMENT: "amber",
    RequestState.QUARANTINED: "amber",
    RequestState.REJECTED: "red",
    RequestState.QUEUED: "blue",
    RequestState.SENT: "purple",
    RequestState.RESPONDED: "green",
    RequestState.FAILED: "red",
    RequestState.TIMED_OUT: "red",
    RequestState.CANCELLED: "grey",
    BatchState.UPLOADED: "grey",
    BatchState.VALIDATING: "blue",
    BatchState.RUNNING: "purple",
    BatchState.COMPLETED: "green",
    BatchState.AWAITING_APPROVAL: "amber",
    BatchState.DECLINED: "red",
    ThresholdChangeState.PENDING: "amber",
    ThresholdChangeState.APPROVED: "green",
}


def colour(value):
    return COLOURS.get(value, "grey")


# --- Rollouts (adapter.rollouts) ------------------------------------------------------------------

class RolloutState(models.TextChoices):
    """A rollout's life: drawn up (draft), held for a second person (awaiting approval: a wave's
    batch waits for four eyes), sending its waves (running), stopped by a person or by its error
    threshold (paused: nothing new is sent), ended by a person (cancelled) or with its last wave."""

    DRAFT = "draft", "Draft"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"


# A rollout that may still send: the minute's evaluation looks at these only.
LIVE_ROLLOUT_STATES = (RolloutState.AWAITING_APPROVAL, RolloutState.RUNNING)
ENDED_ROLLOUT_STATES = (RolloutState.CANCELLED, RolloutState.COMPLETED)


class WaveState(models.TextChoices):
    """A wave: not yet started (pending), its predecessor reached the success threshold and it waits
    for a person to start it (ready), its requests made and sent (running), every member ended
    (done), or never to start (cancelled)."""

    PENDING = "pending", "Pending"
    READY = "ready", "Ready to start"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class WaveSizeKind(models.TextChoices):
    COUNT = "count", "Devices"
    PERCENT = "percent", "Per cent of the population"


class PopulationSource(models.TextChoices):
    LIST = "list", "Uploaded list of device ids"
    SAVED_FILTER = "saved_filter", "Saved filter of the device register"
    FAILURES = "failures", "The failed devices of an earlier rollout"


COLOURS.update({
    RolloutState.DRAFT: "grey",
    RolloutState.PAUSED: "amber",
    WaveState.PENDING: "grey",
    WaveState.READY: "amber",
    WaveState.DONE: "green",
})

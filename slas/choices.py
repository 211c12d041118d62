"""Choices of the slas app: measurement types, intervals, provider kinds, statement states and
burn-rate episode states.

The values are the tokens used in files and JSON (see the cross-app contract)."""
from django.db import models

from portal.choices import BADGES


class MeasurementType(models.TextChoices):
    """What each type is measured on (request or alert facts, whether it leaves DCC, which adapter
    type folds into it): slas.metrics.MEASUREMENT_TYPES."""

    ON_DEMAND = "on_demand", "On-demand"
    FUTURE_DATED_ACK = "future_dated_ack", "Future-dated (acknowledgement)"
    FUTURE_DATED_RESPONSE = "future_dated_response", "Future-dated (future response)"
    FIRMWARE = "firmware", "Firmware delivery"
    DCC_ONLY = "dcc_only", "DCC-only"
    DSP_SCHEDULED = "dsp_scheduled", "DSP-scheduled"
    METER_SCHEDULED = "meter_scheduled", "Meter-scheduled"
    ALERT = "alert", "Alert"
    # Not a kind of request: incidents of the Incident Management Log, timed by the service
    # desk's incident clock (slas.incidents); no fact table, so not in metrics.MEASUREMENT_TYPES.
    INCIDENT = "incident", "Incident"


class FactKind(models.TextChoices):
    """The two kinds of fact table (slas.models.RequestFact, AlertFact), as an archive names them."""

    REQUESTS = "requests", "Request facts"
    ALERTS = "alerts", "Alert facts"


class Interval(models.TextChoices):
    """What a measure times. t0 received_at, t1 dsp_sent_at, t2 wan_delivered_at,
    t3 device_responded_at, t4 wan_returned_at, t5 responded_at; a1 raised_at, a2 wan_received_at,
    a3 delivered_at. HAN and meter time (t3 - t2) is never counted."""

    DSP_OUTBOUND = "dsp_outbound", "DSP outbound: t1 - max(t0, start_at)"
    CSP = "csp", "CSP: (t4 - t1) - (t3 - t2)"
    DSP_INBOUND = "dsp_inbound", "DSP inbound: t5 - t4"
    DSP_TOTAL = "dsp_total", "DSP (DCC-only): t5 - max(t0, start_at)"
    END_TO_END = "end_to_end", "End-to-end: (t5 - start_at) - (t3 - t2)"
    ALERT_CSP = "alert_csp", "CSP alert leg: a2 - a1"
    ALERT_DSP = "alert_dsp", "DSP alert leg: a3 - a2"
    ALERT_END_TO_END = "alert_end_to_end", "Alert end-to-end: a3 - a1"
    INCIDENT_RESPONSE = "incident_response", "Incident response: raised to first response, less pauses (clock time)"
    INCIDENT_RESOLUTION = "incident_resolution", "Incident resolution: raised to resolved, less pauses (clock time)"


# The fact column holding each interval's duration in microseconds (NULL: not started,
# -1: started but never ended, i.e. a miss). How each is timed: slas.metrics.REQUEST_SPANS / ALERT_SPANS.
INTERVAL_COLUMN: dict[str, str] = {  # looked up by a measure's stored interval (text)
    Interval.DSP_OUTBOUND: "dsp_outbound_us",
    Interval.CSP: "csp_us",
    Interval.DSP_INBOUND: "dsp_inbound_us",
    Interval.DSP_TOTAL: "dsp_total_us",
    Interval.END_TO_END: "end_to_end_us",
    Interval.ALERT_CSP: "csp_us",
    Interval.ALERT_DSP: "dsp_us",
    Interval.ALERT_END_TO_END: "end_to_end_us",
}


class ProviderKind(models.TextChoices):
    """Who a measure holds to account; CSP measures are reported per region (CSP_NORTH...),
    incident measures per resolver (the rollup's ``region`` holds the resolver's code)."""

    E2E = "E2E", "End-to-end"
    DSP = "DSP", "DSP"
    CSP = "CSP", "CSP"
    RESOLVER = "RES", "Incident resolver"


class StatementStatus(models.TextChoices):
    """Shown on statements: the latest version of a month is current, earlier ones superseded."""

    CURRENT = "current", "Current"
    SUPERSEDED = "superseded", "Superseded"


STATUS_COLOURS = {
    StatementStatus.CURRENT: "green",
    StatementStatus.SUPERSEDED: "grey",
}


class EpisodeState(models.TextChoices):
    """A burn-rate episode is open while its rule fires and closed once the short window recovers."""

    OPEN = "open", "Burning"
    CLOSED = "closed", "Over"


BADGES.update({EpisodeState.OPEN: "red", EpisodeState.CLOSED: "green"})


class MeasureState(models.TextChoices):
    """Where a measure's achieved share stands against its target and minimum (slas.metrics.
    measure_state decides it, for the dashboard, the report and the statement alike). "At or
    below minimum" as the credit terms count it: achieving exactly the minimum earns a full
    point of shortfall (slas.credits)."""

    MET = "met", "Met"
    BETWEEN = "between_target_and_minimum", "Between target and minimum"
    BELOW = "below_minimum", "At or below minimum"
    NOT_MEASURED = "not_measured", "Not measured"


BADGES.update({MeasureState.MET: "green", MeasureState.BETWEEN: "amber", MeasureState.BELOW: "red",
               MeasureState.NOT_MEASURED: "grey"})

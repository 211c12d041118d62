"""adapter.selectors.timeline for requests whose times are missing."""
import datetime as dt

from django.utils import timezone

from adapter.models import ServiceRequest
from adapter.selectors import timeline


def test_a_future_dated_request_without_receipt_or_start_time_still_has_a_timeline():
    # Rows created outside request_submit (the admin, a fixture) may lack received_at and
    # start_at; the future-dated branch compared execute_at with None and raised TypeError.
    sent = timezone.now()
    request = ServiceRequest(execute_at=sent + dt.timedelta(hours=1), dsp_sent_at=sent,
                             wan_delivered_at=sent + dt.timedelta(seconds=2))
    segments, total = timeline(request)
    assert [s["label"] for s in segments][:3] == ["Received at the User Gateway", "DSP sent to the WAN gateway",
                                                  "CSP delivered over the WAN"]
    assert segments[1]["duration"] is None  # no receipt time: the DSP leg is not timed
    assert segments[2]["duration"] == dt.timedelta(seconds=2) and segments[2]["within"] is True
    assert total["duration"] is None and total["within"] is None

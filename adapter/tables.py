"""The adapter's register tables (portal.lists.tables.Table, django-tables2 columns): service
requests, batches and alerts. Requests and alerts are keyset-paged tables of millions of rows:
they sort only by their id, which every index of theirs ends in (newest first by default)."""
import django_tables2 as tables
from django.utils.html import format_html

from adapter.choices import colour
from portal.lists.tables import Table
from portal.templatetags.formatting import eui, when


def _badge(value, label):
    return format_html('<span class="badge badge-{}">{}</span>', colour(value), label)


class RequestTable(Table):
    name = "adapter.requests"
    request_id = tables.Column(verbose_name="Request id")
    srv = tables.Column(accessor="srv__code", verbose_name="SRV")
    srv_name = tables.Column(accessor="srv__name", verbose_name="SRV name")
    device = tables.Column(accessor="device_ref", verbose_name="Device")
    organisation = tables.Column(accessor="organisation__code", verbose_name="Organisation")
    received = tables.Column(accessor="received_at", verbose_name="Received")
    state = tables.Column(verbose_name="State")
    outcome = tables.Column(verbose_name="Outcome")
    completed = tables.Column(accessor="completed_at", verbose_name="Completed")
    batch = tables.Column(accessor="batch_id", verbose_name="Batch")

    fixed = ("request_id",)
    default_columns = ("request_id", "srv", "srv_name", "device", "organisation", "received", "state", "outcome")
    # received_at grows with the id (a request is stored as it is received): the id's index serves it
    sorts = {"received": "id"}  # noqa: RUF012
    default_sort = "-received"

    class Meta(Table.Meta):
        empty_text = "No service requests."

    def render_request_id(self, value, record):
        return format_html('<a href="{}"><code>{}</code></a>', record.get_absolute_url(), value)

    def render_device(self, value):
        return eui(value)

    def render_received(self, value):
        return when(value, "seconds")

    def render_completed(self, value):
        return when(value, "seconds")

    def render_state(self, value, record):
        return _badge(record.state, record.get_state_display())

    def value_state(self, value, record):
        return record.state

    def value_received(self, value):
        return value.isoformat() if value else ""

    def value_completed(self, value):
        return value.isoformat() if value else ""

    def value_request_id(self, value):
        return value

    def value_device(self, value):
        return value


class BatchTable(Table):
    name = "adapter.batches"
    batch = tables.Column(accessor="pk", verbose_name="Batch")
    name_ = tables.Column(accessor="name", verbose_name="Name")
    organisation = tables.Column(accessor="organisation__code", verbose_name="Organisation")
    uploaded = tables.Column(accessor="created_at", verbose_name="Uploaded")
    state = tables.Column(verbose_name="State")
    total_rows = tables.Column(verbose_name="Rows", attrs={"td": {"class": "num"}})
    accepted_rows = tables.Column(verbose_name="Accepted")
    rejected_rows = tables.Column(verbose_name="Rejected")

    fixed = ("batch",)
    default_columns = ("batch", "organisation", "uploaded", "state", "total_rows", "accepted_rows", "rejected_rows")
    sorts = {"batch": "id", "uploaded": "created_at", "state": "state", "total_rows": "total_rows"}  # noqa: RUF012
    default_sort = "-uploaded"

    class Meta(Table.Meta):
        empty_text = "No batches."

    def render_batch(self, value, record):
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), record)

    def render_uploaded(self, value):
        return when(value)

    def render_state(self, value, record):
        return _badge(record.state, record.get_state_display())

    def value_batch(self, value):
        return value

    def value_state(self, value, record):
        return record.state

    def value_uploaded(self, value):
        return value.isoformat() if value else ""


class AlertTable(Table):
    name = "adapter.alerts"
    alert_id = tables.Column(verbose_name="Alert id")
    alert_code = tables.Column(verbose_name="Code")
    description = tables.Column(verbose_name="Description")
    device = tables.Column(accessor="device__device_id", verbose_name="Device", default="DCC")
    organisation = tables.Column(accessor="organisation__code", verbose_name="Organisation")
    raised = tables.Column(accessor="raised_at", verbose_name="Raised")
    wan = tables.Column(accessor="wan_received_at", verbose_name="At WAN gateway", default="—")
    delivered = tables.Column(accessor="delivered_at", verbose_name="Delivered", default="—")

    fixed = ("alert_id",)
    default_columns = ("alert_id", "alert_code", "description", "device", "organisation", "raised", "wan",
                       "delivered")
    # stored as they arrive: the id orders them as they were received (every index ends in it)
    sorts = {"alert_id": "id"}  # noqa: RUF012
    default_sort = "-alert_id"

    class Meta(Table.Meta):
        empty_text = "No alerts."

    def render_alert_id(self, value):
        return format_html("<code>{}</code>", value)

    def render_device(self, value):
        return eui(value)

    def render_raised(self, value):
        return when(value, "seconds")

    def render_wan(self, value):
        return value.strftime("%H:%M:%S")

    def render_delivered(self, value):
        return value.strftime("%H:%M:%S")

    def value_alert_id(self, value):
        return value

    def value_device(self, value):
        return value

    def value_raised(self, value):
        return value.isoformat() if value else ""

    def value_wan(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else ""

    def value_delivered(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else ""

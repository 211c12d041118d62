"""The inventory's register tables (portal.lists.tables.Table, django-tables2 columns)."""
import django_tables2 as tables
from django.utils.html import format_html

from portal.lists.tables import Table


class DeviceTable(Table):
    """The device list's columns, of inventory.views.DeviceRow (cells computed once in the view:
    the list is the portal's largest). Sorts: only what an index serves with keyset pages, the
    id (newest first) and the device id (unique)."""

    name = "inventory.devices"
    device_id = tables.Column(verbose_name="Device id")
    device_type = tables.Column(verbose_name="Type")
    status = tables.Column(verbose_name="Status")
    supplier = tables.Column(verbose_name="Supplier")
    region = tables.Column(verbose_name="Region")
    model = tables.Column(verbose_name="Model")
    firmware_version = tables.Column(verbose_name="Firmware")
    mpxn = tables.Column(verbose_name="MPxN")
    hub = tables.Column(verbose_name="Hub", empty_values=())

    fixed = ("device_id",)
    default_columns = ("device_id", "device_type", "status", "supplier", "region", "model", "firmware_version",
                       "mpxn", "hub")
    sorts = {"id": "id", "device_id": "device_id"}  # noqa: RUF012
    default_sort = "-id"
    export_fields = {"model": ("manufacturer", "model"), "hub": ("hub_id",)}  # noqa: RUF012

    class Meta(Table.Meta):
        empty_text = "No devices match."

    def render_device_id(self, value, record):
        return format_html('<a href="{}"><code>{}</code></a>', record.url, value)

    def render_status(self, value, record):
        return format_html('<span class="badge badge-{}">{}</span>', record.status_colour, record.status_label)

    def render_hub(self, value, record):
        if value:
            return format_html("<code>{}</code>", value)
        return "another supplier's" if record.hub_hidden else ""

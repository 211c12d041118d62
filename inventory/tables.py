"""The inventory's register tables (portal.lists.tables.Table, django-tables2 columns)."""
import django_tables2 as tables
from django.utils.html import format_html

from portal.lists.tables import Table
from portal.templatetags.formatting import eui


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
        return format_html('<a href="{}">{}</a>', record.url, eui(value))

    def render_status(self, value, record):
        return format_html('<span class="badge badge-{}">{}</span>', record.status_colour, record.status_label)

    def render_hub(self, value, record):
        if value:
            return format_html("<code>{}</code>", value)
        return "another supplier's" if record.hub_hidden else ""


def _badge(value, label):
    from inventory.choices import BADGES

    return format_html('<span class="badge badge-{}">{}</span>', BADGES.get(value, "grey"), label)


class DeviceModelTable(Table):
    """The Central Products List's columns."""

    name = "inventory.devicemodels"
    manufacturer = tables.Column(accessor="manufacturer_id", verbose_name="Manufacturer")
    model_id = tables.Column(verbose_name="Model")
    device_type = tables.Column(verbose_name="Type")
    smets_version = tables.Column(verbose_name="Version")
    firmware_versions = tables.Column(verbose_name="Firmware")
    status = tables.Column(verbose_name="Status")
    items = tables.Column(accessor="pk", verbose_name="Relies on", orderable=False)

    fixed = ("model_id",)
    default_columns = ("manufacturer", "model_id", "device_type", "smets_version", "firmware_versions", "status",
                       "items")
    sorts = {"manufacturer": "manufacturer_id", "model_id": "model_id", "device_type": "device_type",  # noqa: RUF012
             "status": "status"}
    default_sort = "manufacturer"
    export_fields = {"manufacturer": ("manufacturer_id", "manufacturer_name")}  # noqa: RUF012

    class Meta(Table.Meta):
        empty_text = "No device models."

    def render_manufacturer(self, value, record):
        return format_html("{} <code>{}</code>", record.manufacturer_name or value, value)

    def render_model_id(self, value, record):
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), value)

    def render_firmware_versions(self, value):
        return ", ".join(value)

    def render_status(self, value, record):
        return _badge(value, record.get_status_display())

    def render_items(self, value, record):
        return ", ".join(item.name for item in record.items.all())  # prefetched


class ItemTable(Table):
    """The configuration items' columns."""

    name = "inventory.items"
    key = tables.Column(verbose_name="Key")
    name_ = tables.Column(accessor="name", verbose_name="Name")
    kind = tables.Column(verbose_name="Kind")
    owner = tables.Column(accessor="owner__code", verbose_name="Owner")
    version = tables.Column(verbose_name="Version")
    status = tables.Column(verbose_name="Status")
    updated = tables.Column(accessor="updated_at", verbose_name="Updated")

    fixed = ("name_",)
    default_columns = ("key", "name_", "kind", "owner", "version", "status")
    sorts = {"key": "key", "name_": "name", "kind": "kind", "status": "status", "updated": "updated_at"}  # noqa: RUF012
    default_sort = "name_"
    export_fields = {"name_": ("name",), "updated": ()}  # noqa: RUF012

    class Meta(Table.Meta):
        empty_text = "No configuration items."

    def render_key(self, value):
        return format_html("<code>{}</code>", value)

    def render_name_(self, value, record):
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), value)

    def render_kind(self, value, record):
        return record.get_kind_display()

    def render_status(self, value, record):
        return _badge(value, record.get_status_display())

    def render_updated(self, value):
        from portal.templatetags.formatting import when

        return when(value)

"""Admin of the inventory app (for DCC administrators; everyday work goes through the pages)."""
from django.contrib import admin

from inventory.models import (
    AuxiliarySwitch,
    ConfigurationItem,
    Device,
    DeviceModel,
    DeviceStatusChange,
    ItemRelationship,
    Requirement,
)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["device_id", "device_type", "status", "supplier", "region", "mpxn"]
    list_filter = ["device_type", "status", "region"]
    search_fields = ["=device_id", "=mpxn"]
    raw_id_fields = ["hub", "model", "supplier"]
    readonly_fields = ["status", "status_changed_at"]  # status moves only through device_set_status
    show_full_result_count = False  # no COUNT(*) over a million rows


@admin.register(DeviceModel)
class DeviceModelAdmin(admin.ModelAdmin):
    list_display = ["manufacturer_id", "manufacturer_name", "model_id", "device_type", "smets_version", "status"]
    list_filter = ["device_type", "status"]


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "kind", "status", "owner"]
    list_filter = ["kind", "status"]


admin.site.register(ItemRelationship)
admin.site.register(Requirement)
admin.site.register(AuxiliarySwitch)
admin.site.register(DeviceStatusChange)

"""Admin of the inventory app (for DCC administrators; everyday work goes through the pages)."""
from django.contrib import admin

from inventory import models


@admin.register(models.Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["device_id", "device_type", "status", "supplier", "region", "mpxn"]
    list_filter = ["device_type", "status", "region"]
    search_fields = ["=device_id", "=mpxn"]
    raw_id_fields = ["hub", "model", "supplier"]
    readonly_fields = ["status", "status_changed_at"]  # status moves only through device_set_status
    show_full_result_count = False  # no COUNT(*) over a million rows


@admin.register(models.DeviceModel)
class DeviceModelAdmin(admin.ModelAdmin):
    list_display = ["manufacturer_id", "manufacturer_name", "model_id", "device_type", "smets_version", "status"]
    list_filter = ["device_type", "status"]


@admin.register(models.ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "kind", "status", "owner"]
    list_filter = ["kind", "status"]


admin.site.register(models.ItemRelationship)
admin.site.register(models.Requirement)
admin.site.register(models.AuxiliarySwitch)
admin.site.register(models.DeviceStatusChange)

"""Admin of the governance registers (read-mostly: the pages and services are the way to write)."""
from django.contrib import admin

from workshops import models


@admin.register(models.Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "status", "due"]
    list_filter = ["status"]
    search_fields = ["reference", "title"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.RaidItem)
class RaidItemAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "topic", "title", "status"]
    list_filter = ["kind", "status"]

    def has_delete_permission(self, request, obj=None):
        return False


for model in (models.MeetingSeries, models.Meeting, models.AgendaItem, models.Topic, models.Document,
              models.DocumentVersion, models.Milestone, models.Consultation, models.Comment):
    admin.site.register(model)

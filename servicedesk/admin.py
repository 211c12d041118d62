"""Admin of the service desk (for DCC administrators; everyday work goes through the services).

Records that move through a life (incidents, maintenance, alerts) are read-only where their
fields are moved by services, so the admin cannot skip the clock, the timeline or the audit."""
from django.contrib import admin

from servicedesk import models


@admin.register(models.TargetTime)
class TargetTimeAdmin(admin.ModelAdmin):
    list_display = ["category", "response_minutes", "resolution_minutes", "basis", "note", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]


@admin.register(models.DeskPolicy)
class DeskPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "auto_close_working_days", "major_report_working_days",
                    "maintenance_notice_working_days", "attachment_max_bytes", "note"]

    def has_add_permission(self, request):
        return not models.DeskPolicy.objects.exists()  # one row

    def has_delete_permission(self, request, obj=None):
        return False


class IncidentUpdateInline(admin.TabularInline):
    model = models.IncidentUpdate
    extra = 0
    fields = ("created_at", "kind", "visibility", "author", "text")
    readonly_fields = ("created_at", "kind", "visibility", "author", "text")
    can_delete = False


class ClockPauseInline(admin.TabularInline):
    model = models.ClockPause
    extra = 0
    readonly_fields = ["reason", "started_at", "ended_at"]
    can_delete = False


class IncidentReferenceInline(admin.TabularInline):
    model = models.IncidentReference
    extra = 0


@admin.register(models.Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["reference", "summary", "organisation", "category", "status", "resolver", "is_major",
                    "raised_at", "resolution_due_at"]
    list_filter = ["status", "category", "is_major", "channel"]
    search_fields = ["=reference", "summary"]
    raw_id_fields = ["organisation", "raised_by", "logged_by", "category_set_by", "resolver", "assignee",
                     "repeat_of", "problem"]
    readonly_fields = ["number", "reference", "status", "category", "proposed_category", "raised_at",
                       "responded_at", "resolved_at", "closed_at", "response_due_at", "resolution_due_at",
                       "reopened_count", "is_major", "major_at", "major_report_due_at"]
    filter_horizontal = ["affected_items", "interested_parties"]
    inlines = [IncidentReferenceInline, ClockPauseInline, IncidentUpdateInline]
    show_full_result_count = False


@admin.register(models.IncidentAttachment)
class IncidentAttachmentAdmin(admin.ModelAdmin):
    list_display = ["incident", "filename", "content_type", "size", "visibility", "uploaded_at"]
    readonly_fields = ["sha256", "size", "content_type"]
    raw_id_fields = ["incident", "update"]


@admin.register(models.Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "status", "created_at", "resolved_at"]
    list_filter = ["status"]
    search_fields = ["=reference", "title"]
    readonly_fields = ["reference"]


class ComponentStatusChangeInline(admin.TabularInline):
    model = models.ComponentStatusChange
    extra = 0
    readonly_fields = ["from_status", "to_status", "reason", "actor", "changed_at"]
    can_delete = False


@admin.register(models.ServiceComponent)
class ServiceComponentAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "item", "status", "sort_order", "is_active"]
    readonly_fields = ["status"]  # moves through component_set_status, which keeps the history
    inlines = [ComponentStatusChangeInline]


class ServiceAlertUpdateInline(admin.TabularInline):
    model = models.ServiceAlertUpdate
    extra = 0
    readonly_fields = ["text", "expected_resolution_at", "author", "created_at"]
    can_delete = False


@admin.register(models.ServiceAlert)
class ServiceAlertAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "published_at", "expected_resolution_at", "closed_at"]
    search_fields = ["=reference", "title"]
    readonly_fields = ["reference", "published_at", "closed_at", "incident"]
    inlines = [ServiceAlertUpdateInline]


@admin.register(models.PlannedMaintenance)
class PlannedMaintenanceAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "start_at", "end_at", "status", "notice_working_days"]
    list_filter = ["status"]
    readonly_fields = ["reference", "status", "scheduled_at", "scheduled_by", "notice_working_days", "approved_by",
                       "approved_at", "alert"]


@admin.register(models.Outage)
class OutageAdmin(admin.ModelAdmin):
    list_display = ["component", "started_at", "ended_at", "incident"]
    list_filter = ["component"]
    raw_id_fields = ["incident"]


@admin.register(models.MajorIncidentReport)
class MajorIncidentReportAdmin(admin.ModelAdmin):
    list_display = ["incident", "version", "author", "created_at"]
    readonly_fields = ["incident", "version", "summary", "timeline", "impact", "root_cause", "actions", "reason",
                       "author", "created_at"]  # a version is never edited: a correction is a new one


@admin.register(models.UsageForecast)
class UsageForecastAdmin(admin.ModelAdmin):
    list_display = ["organisation", "month", "srv", "forecast"]
    list_filter = ["month"]


@admin.register(models.SelfServiceReportDelivery)
class SelfServiceReportDeliveryAdmin(admin.ModelAdmin):
    list_display = ["organisation", "kind", "month", "due_on", "state", "delivered_at"]
    list_filter = ["kind", "state", "month"]
    readonly_fields = ["rows", "emailed_to", "delivered_at", "error"]

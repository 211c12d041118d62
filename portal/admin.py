"""The admin site serves DCC administrators: organisations and people."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from portal.models import Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "provider_code", "region", "user_id", "is_active"]
    list_filter = ["kind", "region", "is_active"]
    search_fields = ["code", "name", "user_id"]


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "initials", "organisation", "role", "is_active"]
    list_filter = ["role", "organisation", "is_active"]
    fieldsets = UserAdmin.fieldsets + (("Portal", {"fields": ("organisation", "role", "initials")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Portal", {"fields": ("organisation", "role", "initials")}),)


# Operations configuration kept in portal: burn-rate thresholds (editable), and read-only views of
# what the portal did with them and with webhooks.
from portal.models import BurnRateEpisode, BurnRateRule, WebhookDelivery, WebhookEndpoint  # noqa: E402


@admin.register(BurnRateRule)
class BurnRateRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "measure_code", "short_window_minutes", "long_window_minutes", "threshold",
                    "min_requests", "is_active"]
    list_editable = ["threshold", "is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BurnRateEpisode)
class BurnRateEpisodeAdmin(ReadOnlyAdmin):
    list_display = ["measure_code", "region", "rule", "state", "opened_at", "closed_at", "short_rate", "long_rate"]
    list_filter = ["state", "rule"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "organisation", "is_active"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_code", "created_at"]
    list_filter = ["status", "event"]

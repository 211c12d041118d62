"""The admin site serves DCC administrators: organisations and people, webhook endpoints (the
secret stays out of the form) and a read-only view of what was delivered to them."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from portal.models import ApiToken, Organisation, SignIn, User
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint

# DRF's plaintext tokens are no longer read (portal.authentication): one added here would not work.
try:
    from rest_framework.authtoken.models import TokenProxy

    admin.site.unregister(TokenProxy)
except admin.sites.NotRegistered:  # pragma: no cover (authtoken's admin not loaded yet)
    pass


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "provider_code", "region", "user_id", "is_active"]
    list_filter = ["kind", "region", "is_active"]
    search_fields = ["code", "name", "user_id"]


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "initials", "organisation", "role", "is_active",
                    "last_login"]
    list_filter = ["role", "organisation", "is_active"]
    fieldsets = UserAdmin.fieldsets + (("Portal", {"fields": ("organisation", "role", "initials")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Portal", {"fields": ("organisation", "role", "initials")}),)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record the portal writes itself (a delivery, an episode): the admin shows it, never edits it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "organisation", "is_active"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_code", "created_at"]
    list_filter = ["status", "event"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens by owner: an administrator can see them and revoke one (delete), never read the
    token (only its digest is stored) nor make one (a token is issued to its owner, shown once)."""

    list_display = ["prefix", "user", "name", "read_only", "expires_at", "created_at", "last_used_at"]
    list_filter = ["read_only"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["user", "name", "prefix", "digest", "read_only", "expires_at", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
@admin.register(SignIn)
class SignInAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "user", "outcome", "method", "address", "user_agent"]
    list_filter = ["outcome", "method"]
    search_fields = ["username", "user__username", "address"]

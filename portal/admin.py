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

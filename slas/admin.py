"""Admin of the slas app: DCC administrators edit measures, provider terms and relief windows here."""
from django.contrib import admin

from slas import services
from slas.models import Charge, Measure, ProviderTerms, ReliefEvent


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "provider", "measurement_type", "interval", "target_seconds", "target_pct",
                    "minimum_pct", "weight"]
    list_filter = ["provider", "measurement_type"]

    def save_model(self, request, obj, form, change):
        # Through the service, as the pages and the API do: counts within target depend on the
        # target, so this month's rollups are rebuilt and the change is audited with its actor.
        services.measure_update(measure=obj, actor=request.user)


@admin.register(ProviderTerms)
class ProviderTermsAdmin(admin.ModelAdmin):
    list_display = ["provider", "percent_per_point", "cap_pct"]


@admin.register(ReliefEvent)
class ReliefEventAdmin(admin.ModelAdmin):
    list_display = ["provider", "region", "starts_at", "ends_at", "reason"]


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["month", "provider", "organisation", "amount"]

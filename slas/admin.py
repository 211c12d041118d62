"""Admin of the slas app: DCC administrators edit measures, provider terms, relief windows and
burn-rate thresholds here; burn-rate episodes are shown read-only."""
from django.contrib import admin

from portal.admin import ReadOnlyAdmin
from slas import services
from slas.models import BurnRateEpisode, BurnRateRule, Charge, Measure, ProviderTerms, ReliefEvent


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


@admin.register(BurnRateRule)
class BurnRateRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "measure_code", "short_window_minutes", "long_window_minutes", "threshold",
                    "min_requests", "is_active"]
    list_editable = ["threshold", "is_active"]


@admin.register(BurnRateEpisode)
class BurnRateEpisodeAdmin(ReadOnlyAdmin):
    list_display = ["measure_code", "region", "rule", "state", "opened_at", "closed_at", "short_rate", "long_rate"]
    list_filter = ["state", "rule"]

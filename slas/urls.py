"""Pages of the slas app: ``urlpatterns`` under /slas/ (namespace "slas"), and
``root_urlpatterns``, which config/urls.py serves at the site's root without a namespace (the
burn-rate pages kept the paths and names they had before they moved here from portal)."""
from django.urls import path

from slas import burnrate_views, views

app_name = "slas"
urlpatterns = [
    path("", views.report_page, name="report"),
    path("report.<str:fmt>", views.report_export, name="report_export"),
    path("measures/", views.measure_list, name="measure_list"),
    path("measures/<int:pk>/edit/", views.measure_edit, name="measure_edit"),
    path("relief/", views.relief_list, name="relief_list"),
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/download.<str:fmt>", views.statement_download, name="statement_download"),
    path("charges/", views.charge_list, name="charge_list"),
    path("charges/import/", views.charge_import, name="charge_import"),
]

root_urlpatterns = [
    path("burn-rate/rules/", burnrate_views.burnrate_rule_list, name="burnrate_rule_list"),
    path("burn-rate/rules/new/", burnrate_views.burnrate_rule_create, name="burnrate_rule_create"),
    path("burn-rate/rules/<int:pk>/", burnrate_views.burnrate_rule_edit, name="burnrate_rule_edit"),
    path("burn-rate/episodes/", burnrate_views.burnrate_episode_list, name="burnrate_episode_list"),
]

"""Routes of the service desk (status pages); included by servicedesk.urls."""
from django.urls import path

from servicedesk import status_views as views

urlpatterns: list = [
    path("status/", views.status_page, name="status"),
    path("status/components/<int:pk>/", views.component_detail, name="component_detail"),
    path("status/components/<int:pk>/status/", views.component_set_status, name="component_set_status"),
    path("status/components/<int:pk>/outages/new/", views.outage_record, name="outage_record"),
    path("status/outages/<int:pk>/end/", views.outage_end, name="outage_end"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/new/", views.alert_publish, name="alert_publish"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/update/", views.alert_update, name="alert_update"),
    path("alerts/<int:pk>/close/", views.alert_close, name="alert_close"),
    path("maintenance/", views.maintenance_list, name="maintenance_list"),
    path("maintenance/new/", views.maintenance_schedule, name="maintenance_schedule"),
    path("maintenance/calendar.ics", views.maintenance_feed, name="maintenance_feed"),
    path("maintenance/<int:pk>/", views.maintenance_detail, name="maintenance_detail"),
    path("maintenance/<int:pk>/approve/", views.maintenance_approve, name="maintenance_approve"),
    path("maintenance/<int:pk>/announce/", views.maintenance_announce, name="maintenance_announce"),
    path("maintenance/<int:pk>/cancel/", views.maintenance_cancel, name="maintenance_cancel"),
    path("reports/", views.report_index, name="report_index"),
    *[path(f"reports/{page.slug}/", views.REPORT_VIEWS[page.slug], name=page.url_name) for page in views.REPORT_PAGES],
    path("reports/deliveries/", views.delivery_list, name="delivery_list"),
    path("reports/deliveries/<int:pk>/download/", views.delivery_download, name="delivery_download"),
    path("reports/forecasts/", views.forecast_page, name="forecast_page"),
]

"""Pages of the adapter app."""
from django.urls import path

from adapter import rollout_views, views

app_name = "adapter"
urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/bulk-cancel/", views.request_bulk_cancel, name="request_bulk_cancel"),
    path("requests/new/", views.request_submit, name="request_submit"),
    path("requests/new/devices/", views.device_autocomplete, name="device_autocomplete"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/live/", views.request_live, name="request_live"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request_cancel"),
    path("requests/<int:pk>/release/", views.request_release, name="request_release"),
    path("requests/<int:pk>/reject/", views.request_reject, name="request_reject"),
    path("requests/<int:pk>/sign/", views.request_sign, name="request_sign"),
    path("certificates/", views.certificate_list, name="certificate_list"),
    path("certificates/<int:pk>/approve/", views.certificate_approve, name="certificate_approve"),
    path("certificates/<int:pk>/revoke/", views.certificate_revoke, name="certificate_revoke"),
    path("requests/<int:pk>/approve/", views.request_approve, name="request_approve"),
    path("requests/<int:pk>/decline/", views.request_decline, name="request_decline"),
    path("devices/<str:device_id>/requests/", views.device_requests, name="device_requests"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/template/", views.batch_template, name="batch_template"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/results/", views.batch_results, name="batch_results"),
    path("batches/<int:pk>/cancel/", views.batch_cancel, name="batch_cancel"),
    path("batches/<int:pk>/approve/", views.batch_approve, name="batch_approve"),
    path("batches/<int:pk>/decline/", views.batch_decline, name="batch_decline"),
    path("approvals/", views.approvals, name="approvals"),
    path("threshold-changes/<int:pk>/approve/", views.threshold_change_approve, name="threshold_change_approve"),
    path("threshold-changes/<int:pk>/decline/", views.threshold_change_decline, name="threshold_change_decline"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("thresholds/", views.threshold_list, name="threshold_list"),
    path("thresholds/<int:pk>/delete/", views.threshold_delete, name="threshold_delete"),
    path("catalogue/", views.catalogue, name="catalogue"),
]
# Rollouts (adapter.rollout_views)
urlpatterns += [
    path("rollouts/", rollout_views.rollout_list, name="rollout_list"),
    path("rollouts/new/", rollout_views.rollout_create, name="rollout_create"),
    path("rollouts/<int:pk>/", rollout_views.rollout_detail, name="rollout_detail"),
    path("rollouts/<int:pk>/start/", rollout_views.rollout_start, name="rollout_start"),
    path("rollouts/<int:pk>/waves/<int:ordinal>/start/", rollout_views.wave_start, name="rollout_wave_start"),
    path("rollouts/<int:pk>/pause/", rollout_views.rollout_pause, name="rollout_pause"),
    path("rollouts/<int:pk>/resume/", rollout_views.rollout_resume, name="rollout_resume"),
    path("rollouts/<int:pk>/cancel/", rollout_views.rollout_cancel, name="rollout_cancel"),
    path("rollouts/<int:pk>/dry-run/", rollout_views.rollout_dry_run, name="rollout_dry_run"),
    path("rollouts/<int:pk>/throttle/", rollout_views.rollout_throttle, name="rollout_throttle"),
    path("rollouts/<int:pk>/window/", rollout_views.rollout_window, name="rollout_window"),
    path("rollouts/<int:pk>/retry/", rollout_views.rollout_retry, name="rollout_retry"),
    path("rollouts/<int:pk>/extend/", rollout_views.rollout_extend, name="rollout_extend"),
    path("rollouts/<int:pk>/results", rollout_views.rollout_results, name="rollout_results"),
    path("rollouts/<int:pk>/approve/", rollout_views.rollout_approve, name="rollout_approve"),
    path("rollouts/<int:pk>/decline/", rollout_views.rollout_decline, name="rollout_decline"),
    path("rollouts/<int:pk>/dry-run.csv", rollout_views.rollout_dry_run_download, name="rollout_dry_run_download"),
]

"""Pages of the inventory app (mounted at /inventory/)."""
from django.urls import path

from inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.device_list, name="index"),
    path("devices/", views.device_list, name="device_list"),
    path("devices/new/", views.device_create, name="device_create"),
    path("devices/import/", views.device_import, name="device_import"),
    path("devices/bulk-status/", views.device_bulk_status, name="device_bulk_status"),
    path("devices/<str:device_id>/", views.device_detail, name="device_detail"),
    path("devices/<str:device_id>/edit/", views.device_edit, name="device_edit"),
    path("devices/<str:device_id>/items/", views.device_items, name="device_items"),
    path("devices/<str:device_id>/change/", views.device_change, name="device_change"),
    path("devices/<str:device_id>/status/", views.device_status, name="device_status"),
    path("devices/<str:device_id>/hub/", views.device_hub, name="device_hub"),
    path("devices/<str:device_id>/switches/", views.device_switch, name="device_switch"),
    path("models/", views.model_list, name="model_list"),
    path("models/<int:pk>/", views.model_detail, name="model_detail"),
    path("models/<int:pk>/items/", views.model_items, name="model_items"),
    path("models/<int:pk>/withdraw/", views.model_withdraw, name="model_withdraw"),
    path("items/", views.ci_list, name="ci_list"),
    path("items/new/", views.ci_create, name="ci_create"),
    path("items/<slug:key>/", views.ci_detail, name="ci_detail"),
    path("items/<slug:key>/relationships/", views.ci_relationship_add, name="ci_relationship_add"),
    path("items/<slug:key>/edit/", views.ci_edit, name="ci_edit"),
    path("items/<slug:key>/requirements/", views.ci_requirement_add, name="ci_requirement_add"),
    path("requirements/<int:pk>/edit/", views.requirement_edit, name="requirement_edit"),
    path("relationships/<int:pk>/delete/", views.relationship_delete, name="relationship_delete"),
]

"""Pages of the slas app."""
from django.urls import path

from slas import views

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

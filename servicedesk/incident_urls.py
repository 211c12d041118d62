"""Routes of the service desk (incident pages); included by servicedesk.urls. Incidents and
problems are named by their reference (INC000123, PRB000004)."""
from django.urls import path

from servicedesk import views

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_raise, name="incident_raise"),
    path("incidents/import/", views.incident_import, name="incident_import"),
    path("incidents/<str:reference>/", views.incident_detail, name="incident_detail"),
    path("incidents/<str:reference>/update/", views.incident_update, name="incident_update"),
    path("incidents/<str:reference>/request-information/", views.incident_request_information,
         name="incident_request_information"),
    path("incidents/<str:reference>/answer/", views.incident_answer, name="incident_answer"),
    path("incidents/<str:reference>/assign/", views.incident_assign, name="incident_assign"),
    path("incidents/<str:reference>/status/", views.incident_status, name="incident_status"),
    path("incidents/<str:reference>/category/", views.incident_category, name="incident_category"),
    path("incidents/<str:reference>/resolve/", views.incident_resolve, name="incident_resolve"),
    path("incidents/<str:reference>/close/", views.incident_close, name="incident_close"),
    path("incidents/<str:reference>/reopen/", views.incident_reopen, name="incident_reopen"),
    path("incidents/<str:reference>/attach/", views.incident_attach, name="incident_attach"),
    path("incidents/<str:reference>/repeat/", views.incident_repeat, name="incident_repeat"),
    path("incidents/<str:reference>/problem/", views.incident_problem, name="incident_problem"),
    path("incidents/<str:reference>/parties/", views.incident_parties, name="incident_parties"),
    path("incidents/<str:reference>/major/", views.incident_major, name="incident_major"),
    path("incidents/<str:reference>/major-report/", views.incident_major_report, name="incident_major_report"),
    path("incident-attachments/<int:pk>/", views.incident_attachment, name="incident_attachment"),
    path("major-incident-reports/<int:pk>/pdf/", views.major_report_pdf, name="incident_major_report_pdf"),
    path("problems/", views.problem_list, name="problem_list"),
    path("problems/new/", views.problem_create, name="problem_create"),
    path("problems/<str:reference>/", views.problem_detail, name="problem_detail"),
    path("problems/<str:reference>/edit/", views.problem_update, name="problem_update"),
    path("desk/targets/", views.target_list, name="target_list"),
    path("desk/targets/<int:category>/", views.target_edit, name="target_edit"),
    path("desk/policy/", views.policy_edit, name="policy_edit"),
]

"""Routes of the service desk (incident pages); included by servicedesk.urls."""
urlpatterns: list = []

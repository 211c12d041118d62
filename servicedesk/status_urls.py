"""Routes of the service desk (status pages); included by servicedesk.urls."""
urlpatterns: list = []

"""The service desk's pages under /servicedesk/: incidents, problems and the desk's tables
(servicedesk.incident_urls); service status, service alerts, planned maintenance and the
self-service reports (servicedesk.status_urls)."""
from servicedesk import incident_urls, status_urls

app_name = "servicedesk"
urlpatterns = [*incident_urls.urlpatterns, *status_urls.urlpatterns]

"""Pages of notifications and watches, served at the site's root without a namespace."""
from django.urls import path

from portal.notifications import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/badge/", views.notification_badge, name="notification_badge"),
    path("notifications/read/", views.notification_read_all, name="notification_read_all"),
    path("notifications/preferences/", views.notification_preferences, name="notification_preferences"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
    path("watch/", views.watch_toggle, name="watch_toggle"),
]

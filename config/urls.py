"""The site's URLs. The project package may import every app's urls and API routes (as NetBox's does)."""
from importlib import import_module, util

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from portal import ops_api, ops_views, views

router = DefaultRouter()
api_extra = []
app_pages = []
root_pages = []  # an app's pages that keep paths at the site's root (its urls.root_urlpatterns)
for app in settings.PORTAL_APPS:
    if util.find_spec(f"{app}.api"):
        api_module = import_module(f"{app}.api")
        for prefix, viewset, basename in getattr(api_module, "ROUTES", []):
            router.register(prefix, viewset, basename=basename)
        api_extra += getattr(api_module, "api_urlpatterns", [])
    if app != "portal" and util.find_spec(f"{app}.urls"):
        app_pages.append(path(f"{app}/", include(f"{app}.urls")))
        root_pages += getattr(import_module(f"{app}.urls"), "root_urlpatterns", [])

for prefix, viewset, basename in ops_api.ROUTES:  # notifications and webhooks
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/", views.account, name="account"),
    path("accounts/token/", views.account_token_regenerate, name="account_token_regenerate"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("audit/", views.audit_log, name="audit_log"),
    path("search/", ops_views.search, name="search"),
    path("notifications/", ops_views.notification_list, name="notification_list"),
    path("notifications/badge/", ops_views.notification_badge, name="notification_badge"),
    path("notifications/read/", ops_views.notification_read_all, name="notification_read_all"),
    path("notifications/preferences/", ops_views.notification_preferences, name="notification_preferences"),
    path("notifications/<int:pk>/", ops_views.notification_open, name="notification_open"),
    path("watch/", ops_views.watch_toggle, name="watch_toggle"),
    path("webhooks/", ops_views.webhook_list, name="webhook_list"),
    path("webhooks/<int:pk>/", ops_views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/rotate/", ops_views.webhook_rotate_secret, name="webhook_rotate_secret"),
    path("webhooks/deliveries/<int:pk>/", ops_views.webhook_delivery_detail, name="webhook_delivery_detail"),
    path("webhooks/deliveries/<int:pk>/resend/", ops_views.webhook_delivery_resend, name="webhook_delivery_resend"),
    path("filters/save/", ops_views.saved_filter_save, name="saved_filter_save"),
    path("filters/<int:pk>/delete/", ops_views.saved_filter_delete, name="saved_filter_delete"),
    path("dashboard/tiles/<slug:tile>/", ops_views.dashboard_tile, name="dashboard_tile"),
    *root_pages,
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
    path("api/auth/token/", obtain_auth_token, name="api_token"),
    path("api/", include(api_extra)),
    path("api/", include(router.urls)),
    *app_pages,
]

handler500 = "portal.views.server_error"

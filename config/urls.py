"""The site's URLs. The project package may import every app's urls and API routes (as NetBox's does).

The ground's pages are listed here (portal.views) or included from its rooms (notifications,
webhooks, saved filters), all at the root without a namespace; each feature app's pages are under
/<app>/ in its namespace, plus the root_urlpatterns an app keeps at the root. API routes: the
ground's (portal.endpoints and the rooms' api.py) and each app's <app>.api.ROUTES.

The API is versioned (portal.versioning): every API route is under /api/v1/ in the namespace "v1"
(DRF's NamespaceVersioning reads request.version from it, drf-spectacular documents only it), and the
same routes are included again at /api/ with their old names, as deprecated aliases that answer the
same (the middleware adds Deprecation, Sunset and Link). reverse("device-list") still gives the alias,
reverse("v1:device-list") the current path; pages link to the v1 ones. /api/schema/ stays unversioned:
the current version's document at its well-known address (portal.versioning says why)."""
from importlib import import_module, util

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from portal import endpoints, versioning, views
from portal.notifications import api as notifications_api
from portal.sso import SsoCallback, SsoStart
from portal.webhooks import api as webhooks_api

router = DefaultRouter()
api_extra = []
app_pages = []
root_pages = []  # an app's pages that keep paths at the site's root (its urls.root_urlpatterns)
for app in settings.PORTAL_APPS:
    if app == "portal":  # portal.api holds the building blocks; the ground's own endpoints:
        for prefix, viewset, basename in endpoints.ROUTES:
            router.register(prefix, viewset, basename=basename)
    elif util.find_spec(f"{app}.api"):
        api_module = import_module(f"{app}.api")
        for prefix, viewset, basename in getattr(api_module, "ROUTES", []):
            router.register(prefix, viewset, basename=basename)
        api_extra += getattr(api_module, "api_urlpatterns", [])
    if app != "portal" and util.find_spec(f"{app}.urls"):
        app_pages.append(path(f"{app}/", include(f"{app}.urls")))
        root_pages += getattr(import_module(f"{app}.urls"), "root_urlpatterns", [])

for prefix, viewset, basename in webhooks_api.ROUTES + notifications_api.ROUTES:
    router.register(prefix, viewset, basename=basename)

# One version's API. Both schema views document v1 (the unversioned one has no namespace to read it from).
api_patterns = [
    path("schema/", SpectacularAPIView.as_view(api_version=versioning.CURRENT), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    # ReDoc builds its search index in a web worker it loads from a blob: URL; the site's policy
    # (script-src 'self', no worker-src) would block it and leave the page at "Loading". Only this
    # page allows blob: workers. Its script is the pinned sidecar copy; its fonts link is dropped
    # (templates/drf_spectacular/redoc.html).
    path("redoc/", csp_update({"worker-src": ["'self'", "blob:"]})(SpectacularRedocView.as_view(url_name="api_schema")),
         name="api_redoc"),
    path("auth/token/", endpoints.TokenView.as_view(), name="api_token"),
    path("", include(api_extra)),
    path("", include(router.urls)),
]
# The deprecated aliases: the same views at /api/..., except /api/schema/ (kept, current, not an alias).
alias_patterns = [pattern for pattern in api_patterns if getattr(pattern, "name", None) != "api_schema"]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/", views.account, name="account"),
    path("accounts/token/", views.account_token_regenerate, name="account_token_regenerate"),
    path("accounts/tokens/", views.account_token_issue, name="account_token_issue"),
    path("accounts/tokens/<int:pk>/revoke/", views.account_token_revoke, name="account_token_revoke"),
    path("accounts/feed-token/", views.account_feed_token_issue, name="account_feed_token_issue"),
    path("accounts/feed-token/revoke/", views.account_feed_token_revoke, name="account_feed_token_revoke"),
    # Single sign-on for DCC staff (portal.sso): both send to the login page while it is off.
    path("accounts/sso/start/", SsoStart.as_view(), name="oidc_authentication_init"),
    path("accounts/sso/callback/", SsoCallback.as_view(), name="oidc_authentication_callback"),
    path("accounts/invite/<str:uidb64>/<str:token>/", views.invite_accept, name="invite_accept"),
    path("accounts/sign-ins/", views.sign_in_log, name="sign_in_log"),
    path("people/", views.people, name="people"),
    path("people/<int:pk>/deactivate/", views.person_deactivate, name="person_deactivate"),
    path("people/<int:pk>/reactivate/", views.person_reactivate, name="person_reactivate"),
    path("people/<int:pk>/role/", views.person_role, name="person_role"),
    path("people/<int:pk>/invite/", views.person_invite_resend, name="person_invite_resend"),
    path("people/<int:pk>/mfa-reset/", views.person_mfa_reset, name="person_mfa_reset"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("audit/", views.audit_log, name="audit_log"),
    path("search/", views.search, name="search"),
    path("", include("portal.mfa.urls")),
    path("", include("portal.notifications.urls")),
    path("", include("portal.webhooks.urls")),
    path("", include("portal.savedfilters.urls")),
    path("", include("portal.lists.urls")),
    path("dashboard/tiles/<slug:tile>/", views.dashboard_tile, name="dashboard_tile"),
    *root_pages,
    path("admin/", admin.site.urls),
    path(f"api/{versioning.CURRENT}/", include((api_patterns, versioning.CURRENT))),
    path("api/schema/", SpectacularAPIView.as_view(api_version=versioning.CURRENT), name="api_schema"),
    path("api/", include(alias_patterns)),
    *app_pages,
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"

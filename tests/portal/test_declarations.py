"""Every route says what it serves: the isolation sweep reads each view's declared model and
capability (portal.generic), so a page that declares nothing is a page the sweep cannot hold."""
from portal import access
from tests.urlsweep import iter_routes

# Routes that declare no model or capability, and why.
NOT_DECLARED = {
    # Django's own pages: the way in and out, and a person's own password (any logged-in person).
    "login", "logout", "password_change", "password_change_done",
    # An invitation's link: the person has no password yet, the one-time token is the key.
    "invite_accept",
    # Single sign-on's start and callback (portal.sso): the way in, like the login page.
    "oidc_authentication_init", "oidc_authentication_callback",
    # The API's schema, its two readers, the token exchange and the router's index: documents
    # and the login of the API, not records.
    "api_schema", "api_docs", "api_redoc", "api_token", "api-root",
    # The monthly report as JSON: a computed document, no model; slas.api checks who may read it.
    "slas-report",
    # django-otp-webauthn's passkey ceremonies (JSON, called by its script; they check the session
    # themselves) and its script's translations.
    "otp_webauthn:credential-registration-begin", "otp_webauthn:credential-registration-complete",
    "otp_webauthn:credential-authentication-begin", "otp_webauthn:credential-authentication-complete",
    "otp_webauthn:js-i18n-catalog",
}
# URL parameters that name no object ("report.csv").
NOT_OBJECTS = {"fmt", "tile"}  # an export format and a registered tile's slug are not objects
# Views another part of issue 13 is moving out of portal/ (they declare with view_of there).
def _is_api(route):
    return getattr(route.callback, "cls", None) is not None


def _exempt(route):
    # /api/v1/... is the same routes again in the namespace "v1" (config/urls.py): same exemptions.
    return route.name.removeprefix("v1:") in NOT_DECLARED


def test_every_page_declares_its_model_and_capability():
    missing = [route.name for route in iter_routes()
               if not _is_api(route) and not _exempt(route) and route.declaration is None]
    assert not missing, f"pages that declare no model and capability (portal.generic.view_of): {missing}"


def test_every_declared_capability_exists():
    capabilities = {route.capability for route in iter_routes() if route.declaration is not None}
    assert capabilities, "no route declares a capability"
    assert access.declared(sorted(capabilities)) == [], "declared capabilities missing from portal.access"


def test_every_api_route_names_its_model():
    missing = [route.name for route in iter_routes() if _is_api(route) and not _exempt(route) and route.model is None]
    assert not missing, f"API routes whose view names no model (queryset): {missing}"


def test_routes_with_an_object_in_the_url_declare_its_model():
    """A route whose URL names an object must declare that object's model, or the sweep cannot
    fill it with another organisation's objects."""
    missing = [route.name for route in iter_routes()
               if set(route.params) - NOT_OBJECTS and route.declaration is not None and route.declaration.model is None]
    assert not missing, missing


def test_the_allow_list_is_no_larger_than_it_needs_to_be():
    names = {route.name for route in iter_routes()}
    assert NOT_DECLARED <= names, f"allow-listed routes that no longer exist: {NOT_DECLARED - names}"
    for route in iter_routes():
        if _exempt(route):
            assert route.declaration is None, f"{route.name} declares itself now: take it off the list"

"""Settings of the DCC operations portal.

Every value that differs between machines comes from the environment through
config.env, which refuses bad values with a message naming the variable.
.env.example lists them all; the README explains each.
"""
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_cache,
    env_choice,
    env_database,
    env_email,
    env_int,
    env_list,
    env_str,
)
from portal.openapi import enum_name_overrides

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

# Like healthchecks: DEBUG defaults on for a developer's machine; production
# sets DEBUG=0 and must then give SECRET_KEY and ALLOWED_HOSTS explicitly.
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set (50+ random characters) when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY is too short: use at least 50 random characters")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set (comma-separated host names) when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# The portal's own apps, in dependency order (arrows point left:
# slas -> servicedesk -> adapter -> inventory -> portal, workshops -> portal).
PORTAL_APPS = ["portal", "inventory", "workshops", "adapter", "servicedesk", "slas"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "auditlog",
    "axes",
    "csp",
    "django_htmx",
    # Multi-factor sign-in (portal.mfa): TOTP apps, recovery codes and WebAuthn passkeys as django-otp devices.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    *PORTAL_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # 413 for a body over UPLOAD_MAX_BYTES before anything reads it (portal.uploads).
    "portal.uploads.UploadLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed a second factor (django-otp) ...
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # ... and a person for whom it is required gets nothing else until it has (portal.mfa.middleware).
    "portal.mfa.middleware.MFARequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # request.htmx: the one way a view tells an htmx request from a page load
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # The API's answers: RateLimit-* from the throttles' counts, and the deprecation headers on the
    # unversioned /api/... aliases (portal.throttling, portal.versioning).
    "portal.throttling.RateLimitHeadersMiddleware",
    "portal.versioning.DeprecatedAliasMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "portal.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
                "portal.dbrouter.replica_status",
            ],
            # money, day and when on every page without a {% load %}: one way to write them.
            "builtins": ["portal.templatetags.formatting"],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
# Optional PostgreSQL streaming replica for reading work (reports, dashboards, exports, search):
# portal.dbrouter sends a view's reads there only inside reading_from_replica(), and back to the
# primary while the replica is more than REPLICA_MAX_LAG_SECONDS behind or down (checked at most
# every REPLICA_CHECK_SECONDS per process). In tests the alias mirrors the default database.
if env_str("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = {**env_database("DATABASE_REPLICA_URL", ""), "TEST": {"MIRROR": "default"}}
    if "postgresql" not in DATABASES["replica"]["ENGINE"] or "postgresql" not in DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// streaming replica of a "
                                   "postgres:// DATABASE_URL")
DATABASE_ROUTERS = ["portal.dbrouter.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 30, minimum=1)
REPLICA_CHECK_SECONDS = env_int("REPLICA_CHECK_SECONDS", 5, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CACHES = {"default": env_cache("CACHE_URL", "locmem://")}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# A session ends after PORTAL_SESSION_IDLE_MINUTES without a request: the cookie's age is the idle
# period and every request saves the session, so the expiry slides forward with each one
# (the database session's expire_date is what counts; an old cookie finds no session).
PORTAL_SESSION_IDLE_MINUTES = env_int("PORTAL_SESSION_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60)
SESSION_COOKIE_AGE = PORTAL_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
# Sign-ins and failed sign-ins (portal.models.SignIn) are kept this many days (nightly purge).
PORTAL_SIGN_IN_KEEP_DAYS = env_int("PORTAL_SIGN_IN_KEEP_DAYS", 365, minimum=1)
# An invitation's link (portal.services.person_invite) works once, for PORTAL_INVITE_HOURS hours.
PORTAL_INVITE_HOURS = env_int("PORTAL_INVITE_HOURS", 72, minimum=1, maximum=24 * 14)
PASSWORD_RESET_TIMEOUT = PORTAL_INVITE_HOURS * 3600

# Multi-factor sign-in (portal.mfa). Passkeys are a second factor after the password, never a
# password replacement (so django-axes still counts every sign-in). The relying party is the
# portal's own address: a passkey made for SITE_URL's host works only there.
OTP_TOTP_ISSUER = "DCC portal"  # the name authenticator apps show beside the code
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
_site = urlsplit(SITE_URL)
if _site.scheme == "https":
    OTP_WEBAUTHN_RP_ID = _site.hostname or ""
    OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"https://{_site.netloc}"]
else:
    # Browsers make passkeys over plain http only on localhost (and never for an IP address), so
    # a developer's http://127.0.0.1:8000 gets them at http://localhost:8000.
    OTP_WEBAUTHN_RP_ID = "localhost"
    OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"http://localhost:{_site.port or 80}"]

# How many reverse proxies of this deployment stand in front of the web processes, each appending the
# address it was connected from to X-Forwarded-For. 0 (the default): X-Forwarded-For is ignored and
# REMOTE_ADDR is the client. The login lock-out and the API throttles key on that one address
# (portal.clientip); a client can put anything in the header, so never count a proxy you do not run.
PORTAL_TRUSTED_PROXIES = env_int("PORTAL_TRUSTED_PROXIES", 0, minimum=0, maximum=10)

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one username (from any
# number of addresses: spreading guesses over many addresses does not help), or for one username
# from one address, further attempts get 429 with Retry-After until the cool-off has passed.
AXES_ENABLED = env_bool("LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
# The client's address exactly as the API throttles see it: X-Forwarded-For only as far as
# PORTAL_TRUSTED_PROXIES says. A callable rather than axes' AXES_IPWARE_PROXY_COUNT/_META_PRECEDENCE_ORDER,
# which need django-ipware, whose proxy count counts differently from DRF's NUM_PROXIES: one rule for both.
AXES_CLIENT_IP_CALLABLE = "portal.clientip.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "portal.views.login_locked_out"

# Single sign-on for DCC staff by OpenID Connect (portal.sso, README "Single sign-on"): off unless
# OIDC_RP_CLIENT_ID and OIDC_OP_ISSUER are set. Endpoints not given are read from the issuer's
# discovery document. Who may come in is portal.sso's rule, never the provider's say alone.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER", "")
if bool(OIDC_RP_CLIENT_ID) != bool(OIDC_OP_ISSUER):
    raise ImproperlyConfigured("Single sign-on needs both OIDC_RP_CLIENT_ID and OIDC_OP_ISSUER (or neither)")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
OIDC_AUTHENTICATE_CLASS = "portal.sso.SsoStart"
OIDC_CALLBACK_CLASS = "portal.sso.SsoCallback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=refused"
PORTAL_OIDC_DCC_EMAIL_DOMAINS = env_list("PORTAL_OIDC_DCC_EMAIL_DOMAINS", [])
PORTAL_OIDC_DCC_GROUPS = env_list("PORTAL_OIDC_DCC_GROUPS", [])
PORTAL_OIDC_GROUPS_CLAIM = env_str("PORTAL_OIDC_GROUPS_CLAIM", "groups")
PORTAL_OIDC_CREATE_USERS = env_bool("PORTAL_OIDC_CREATE_USERS", False)
if OIDC_RP_CLIENT_ID:
    AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "portal.sso.DccOidcBackend"]

LANGUAGE_CODE = "en-gb"
# Times are stored in UTC; months, days and deadlines are computed in London time.
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
# The one place the site's date and time formats are written (config/formats/en_GB/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# API tokens issued without an expiry of their own expire after this many days (0: never).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90, minimum=0, maximum=3660)

# Uploads (import files, batches): one limit, named in the error message.
# A body over UPLOAD_MAX_BYTES answers 413 before it is read (portal.uploads: Content-Length, then the
# bytes as they stream in). An XLSX workbook is a zip: its members may unpack to at most
# UPLOAD_MAX_UNPACKED_BYTES, each at most UPLOAD_MAX_RATIO times its compressed size (a zip bomb is
# refused before openpyxl opens it), and any table (CSV, XLSX, a batch's JSON rows) holds at most
# UPLOAD_MAX_ROWS rows (counted as they are read: the rest is not read).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
UPLOAD_MAX_UNPACKED_BYTES = env_int("UPLOAD_MAX_UNPACKED_BYTES", 200 * 1024 * 1024, minimum=1024)
UPLOAD_MAX_RATIO = env_int("UPLOAD_MAX_RATIO", 100, minimum=2)
UPLOAD_MAX_ROWS = env_int("UPLOAD_MAX_ROWS", 200_000, minimum=1)
# Import previews nobody committed, the files of ended batches and long-expired API tokens are purged
# by the nightly schedules after this many days.
UPLOAD_RETENTION_DAYS = env_int("UPLOAD_RETENTION_DAYS", 7, minimum=1, maximum=3660)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

_email = env_email("EMAIL_URL", "console://")
globals().update(_email)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@dcc.example")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so a missing or bad token answers 401 with WWW-Authenticate. Hashed, expiring,
        # optionally read-only tokens (portal.models.ApiToken); DRF's authtoken table is no longer read.
        "portal.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # Bodies are JSON; only the views that take a file accept multipart (and say so themselves), so the
    # schema declares one content type per body and a generated client sends what the server reads.
    "DEFAULT_PARSER_CLASSES": ["portal.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "portal.pagination.StandardPagination",
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's anon and user throttles, which also leave their counts for the RateLimit-* headers.
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.throttling.AnonThrottle",
        "portal.throttling.UserThrottle",
    ],
    # /api/v1/... is in the URL namespace "v1": request.version is "v1" there and None on the
    # unversioned aliases, so hyperlinks DRF reverses point at the version the client called.
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    # The throttles' client address: REMOTE_ADDR, or X-Forwarded-For's N-th address from the right
    # behind N trusted proxies (portal.clientip; DRF's default, None, believed the whole header).
    "NUM_PROXIES": PORTAL_TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "1200/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DCC operations portal API",
    "DESCRIPTION": "Asset register, governance registers, device commands and service measures.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # ReDoc from static/vendor/redoc-2.5.4: the sidecar's bundle with its one request to another
    # host (the Redocly logo, which the content security policy blocks) pointed at an empty image.
    "REDOC_DIST": STATIC_URL + "vendor/redoc-2.5.4",
    # Swagger UI from the pinned sidecar; no online validator badge (it would load from another host).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Operation ids and tags come from the path after this prefix: /api/v1/devices/ -> devices_list, as
    # /api/devices/ gave before versioning (the estimated prefix would be /api, aliases included).
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "ENUM_NAME_OVERRIDES": enum_name_overrides(BASE_DIR, PORTAL_APPS),
    # Document the 400/401/403/404/429 answers every endpoint can give (checked by the schemathesis gate).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.openapi.document_error_responses",
        "portal.openapi_idempotency.document_idempotency_key",  # adds 409/422 answers: before the headers
        # RateLimit-* on every response, and the deprecation of the unversioned aliases in info.
        "portal.openapi.document_rate_limit_headers",
        "portal.openapi.announce_versioning",
        "portal.webhooks.openapi.document_webhooks",  # the payload of every event, as callbacks
    ],
}

# django-q2: the ORM broker needs nothing beyond the database; Redis scales to
# several machines of workers.
Q_BROKER = env_choice("Q_BROKER", "orm", ["orm", "redis"])
Q_CLUSTER = {
    "name": "portal",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": env_int("Q_TIMEOUT", 300, minimum=10),
    # retry must exceed timeout, or a slow task is handed out twice.
    "retry": env_int("Q_TIMEOUT", 300, minimum=10) + 60,
    "max_attempts": 3,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 5000,
    "label": "Task queue",
    # A second, small cluster for single service requests (see adapter.tasks.URGENT_CLUSTER):
    # started with Q_CLUSTER_NAME=urgent, it reads only its own queue, so a single on-demand
    # request never waits behind a batch's chunks in the main cluster's workers. One worker
    # is enough (a single request is milliseconds of work) and it polls often because its
    # queue is usually empty and every wait is the user's.
    # A third, for webhook deliveries (portal.webhooks.services.HOOKS_CLUSTER, Q_CLUSTER_NAME=hooks):
    # a slow receiver holds one of its workers for at most the webhook timeouts, never a batch's.
    # Its task timeout covers one attempt (connect + read + the body's deadline) with room to spare.
    "ALT_CLUSTERS": {
        "urgent": {"workers": 1, "poll": 0.05},
        "hooks": {"workers": env_int("Q_HOOKS_WORKERS", 2, minimum=1), "poll": 0.2, "timeout": 60, "retry": 120},
    },
}
if Q_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
else:
    Q_CLUSTER["redis"] = env_str("Q_REDIS_URL", "redis://127.0.0.1:6379/0")
    if not Q_CLUSTER["redis"].startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured("Q_REDIS_URL must be a redis:// URL")

# Facts by month (PostgreSQL): months of request and alert facts older than this many months are
# detached and archived to gzip CSV files under SLAS_FACT_ARCHIVE_DIR (slas.archive; restored with
# `manage.py slas_restore_facts`); their rollups and report summaries stay. 0: never (the default:
# where archives go, and for how long they are kept, is the deployment's decision).
SLAS_FACT_RETENTION_MONTHS = env_int("SLAS_FACT_RETENTION_MONTHS", 0, minimum=0, maximum=1200)
SLAS_FACT_ARCHIVE_DIR = env_str("SLAS_FACT_ARCHIVE_DIR", str(VAR_DIR / "fact-archives"))

# Which backend carries device commands: the in-process simulator or DUIS over HTTP.
ADAPTER_BACKEND = env_choice("ADAPTER_BACKEND", "simulator", ["simulator", "duis"])
ADAPTER_DUIS_URL = env_str("ADAPTER_DUIS_URL", "http://127.0.0.1:8765/duis")
# Where the portal's DUIS message-signing keys live (adapter.keystore): "local" test keys in PEM
# files under ADAPTER_KEYSTORE_DIR (made by `manage.py duis keys`; demos and tests), or "pkcs11", a
# token (HSM; SoftHSM2 in the tests) whose keys never leave it.
ADAPTER_KEYSTORE = env_choice("ADAPTER_KEYSTORE", "local", ["local", "pkcs11"])
ADAPTER_KEYSTORE_DIR = env_str("ADAPTER_KEYSTORE_DIR", str(VAR_DIR / "keys"))
ADAPTER_PKCS11_LIB = env_str("ADAPTER_PKCS11_LIB", "/usr/lib/softhsm/libsofthsm2.so")
ADAPTER_PKCS11_TOKEN = env_str("ADAPTER_PKCS11_TOKEN", "portal")
ADAPTER_PKCS11_PIN = env_str("ADAPTER_PKCS11_PIN", "")
# The head-end's DUIS identity: it signs every response with the key of this EUI-64, whose
# certificate (usage headend) the duis backend checks responses against.
ADAPTER_HEADEND_ID = env_str("ADAPTER_HEADEND_ID", "90-B3-D5-1F-30-00-00-01")
# An attempt left "sending" longer than this is presumed lost (its worker died) and is sent
# again as a new attempt number.
ADAPTER_LEASE_SECONDS = env_int("ADAPTER_LEASE_SECONDS", 120, minimum=1, maximum=86400)
# A critical request whose pre-command is not signed within this time ends, never sent.
ADAPTER_SIGNATURE_TIMEOUT_MINUTES = env_int("ADAPTER_SIGNATURE_TIMEOUT_MINUTES", 60, minimum=1, maximum=7 * 24 * 60)
# Four eyes: a batch sent by DCC staff with more rows than this waits for a second DCC person's
# approval before anything is sent (critical single requests by DCC always do).
ADAPTER_FOUR_EYES_BATCH_SIZE = env_int("ADAPTER_FOUR_EYES_BATCH_SIZE", 100, minimum=1, maximum=10_000_000)
# A rollout's retry of its failed waits this long before its first new attempt is sent, doubling
# with each further attempt (seconds); a member is tried at most ADAPTER_ROLLOUT_MAX_ATTEMPTS times.
ADAPTER_ROLLOUT_RETRY_BACKOFF_SECONDS = env_int("ADAPTER_ROLLOUT_RETRY_BACKOFF_SECONDS", 300, minimum=0,
                                                maximum=7 * 24 * 3600)
# A rollout of more devices than this (or of a critical SRV) waits for a second person before it starts.
ADAPTER_ROLLOUT_APPROVAL_SIZE = env_int("ADAPTER_ROLLOUT_APPROVAL_SIZE", 10_000, minimum=1, maximum=100_000_000)
ADAPTER_ROLLOUT_MAX_ATTEMPTS = env_int("ADAPTER_ROLLOUT_MAX_ATTEMPTS", 5, minimum=2, maximum=20)
# Optional file that gets one line "request_id attempt backend" per hand-over (crash-test witness).
ADAPTER_SEND_LOG = env_str("ADAPTER_SEND_LOG", "")
# Device simulator profile overrides: JSON with the keys of adapter.simulator.DEFAULT_PROFILE.
ADAPTER_SIMULATOR = env_str("ADAPTER_SIMULATOR", "")
if ADAPTER_SIMULATOR:
    import json as _json

    try:
        if not isinstance(_json.loads(ADAPTER_SIMULATOR), dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise ImproperlyConfigured(f"ADAPTER_SIMULATOR is not a JSON object of simulator settings: {exc}") from None

# Webhooks go to public addresses only (portal/webhooks/urlguard.py). WEBHOOK_ALLOW_LOOPBACK lets
# 127.0.0.0/8 and ::1 through as well (nothing else), so the tests and the demo can run a receiver
# on this machine; a production process (DEBUG off) refuses to start with it.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", False)
# One delivery attempt waits at most this long to connect and between bytes of the answer (the whole
# answer: twice the read timeout); a receiver slower than that is a failed attempt, retried later.
WEBHOOK_CONNECT_TIMEOUT = env_int("WEBHOOK_CONNECT_TIMEOUT", 3, minimum=1, maximum=30)
WEBHOOK_READ_TIMEOUT = env_int("WEBHOOK_READ_TIMEOUT", 5, minimum=1, maximum=30)
if WEBHOOK_ALLOW_LOOPBACK and not DEBUG:
    raise ImproperlyConfigured("WEBHOOK_ALLOW_LOOPBACK=1 is for development only: it cannot be on when DEBUG is off")

# Content-Security-Policy (django-csp): nothing from another host, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # plotly.js sets style attributes on the SVG it draws.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"])},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

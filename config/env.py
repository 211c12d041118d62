"""Typed helpers that read configuration from the environment and refuse bad values.

Every setting that comes from the environment goes through one of these, so a
mistyped value stops start-up with a message that names the variable, instead
of surfacing later as a strange behaviour.
"""
import os
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _raw(name, default):
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_str(name, default=""):
    return _raw(name, default)


def env_bool(name, default=False):
    value = _raw(name, None)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off")


def env_int(name, default, minimum=None, maximum=None):
    value = _raw(name, None)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}")
    return number


def env_list(name, default=()):
    value = _raw(name, None)
    if value is None:
        return list(default)
    return [part.strip() for part in value.split(",") if part.strip()]


def env_choice(name, default, choices):
    value = _raw(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


def env_database(name, default):
    """Parse DATABASE_URL (sqlite:///path or postgres://user:pass@host:port/db, host may be a socket path)."""
    import dj_database_url

    value = _raw(name, default)
    scheme = value.split(":", 1)[0]
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"{name}={value!r}: only sqlite:// and postgres:// URLs are supported")
    try:
        config = dj_database_url.parse(value, conn_max_age=0)
    except Exception as exc:  # dj-database-url raises several types for malformed URLs
        raise ImproperlyConfigured(f"{name}={value!r} cannot be parsed: {exc}") from None
    if scheme == "sqlite":
        # WAL and IMMEDIATE transactions let the web server and the django-q2
        # cluster share the embedded database without "database is locked".
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    else:
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
        # A pooled connection is checked before use, so the site recovers by
        # itself after the database restarts.
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    return config


def env_email(name, default):
    """EMAIL_URL: console://, file:///folder, locmem://, smtp://user:pass@host:port?tls=1."""
    value = _raw(name, default)
    url = urlparse(value)
    if url.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if url.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if url.scheme == "file":
        if not url.path:
            raise ImproperlyConfigured(f"{name}={value!r}: file:// needs a folder, e.g. file:///var/mail")
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": url.path}
    if url.scheme in {"smtp", "smtps"}:
        if not url.hostname:
            raise ImproperlyConfigured(f"{name}={value!r}: smtp:// needs a host")
        query = parse_qs(url.query)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": url.hostname,
            "EMAIL_PORT": url.port or (465 if url.scheme == "smtps" else 25),
            "EMAIL_HOST_USER": unquote(url.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(url.password or ""),
            "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in TRUE,
            "EMAIL_USE_SSL": url.scheme == "smtps",
        }
    raise ImproperlyConfigured(f"{name}={value!r}: use console://, file:///folder, locmem:// or smtp://host:port")


def env_cache(name, default):
    """CACHE_URL: locmem://, redis://host:port/db, db:// (shared across machines without Redis)."""
    value = _raw(name, default)
    scheme = value.split(":", 1)[0]
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": value}
    if scheme == "db":
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "portal_cache"}
    raise ImproperlyConfigured(f"{name}={value!r}: use locmem://, redis://host:port/db or db://")

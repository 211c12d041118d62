"""Configuration: bad values stop start-up with a message naming the variable, and the
production settings pass Django's deployment check."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!k2p-production-like-secret-key-with-plenty-of-entropy-0a9s8d7f6g5h",
    "ALLOWED_HOSTS": "portal.dcc.example",
    "DATABASE_URL": "sqlite:///:memory:",
}


def manage(*args, **env):
    # A clean environment: the test settings module has set variables of its own in os.environ.
    full_env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    full_env.update(env)
    full_env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://x/y", "only sqlite:// and postgres:// URLs"),
        ("Q_BROKER", "rabbit", "Q_BROKER='rabbit' is not one of: orm, redis"),
        ("Q_WORKERS", "lots", "Q_WORKERS='lots' is not a whole number"),
        ("EMAIL_URL", "pigeon://coop", "EMAIL_URL='pigeon://coop'"),
        ("ADAPTER_BACKEND", "telepathy", "ADAPTER_BACKEND='telepathy' is not one of"),
        ("CACHE_URL", "memcached://x", "CACHE_URL='memcached://x'"),
        ("DATABASE_REPLICA_URL", "sqlite:///var/replica.sqlite3", "DATABASE_REPLICA_URL must be a postgres://"),
        ("REPLICA_MAX_LAG_SECONDS", "soon", "REPLICA_MAX_LAG_SECONDS='soon' is not a whole number"),
        ("REPLICA_CHECK_SECONDS", "0", "REPLICA_CHECK_SECONDS=0 is below the minimum of 1"),
    ],
)
def test_bad_configuration_stops_start_up_with_a_clear_message(name, value, message):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_needs_a_secret_key_and_hosts():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="x.example")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    result = manage("check", DEBUG="0", SECRET_KEY=PROD["SECRET_KEY"])
    assert result.returncode != 0 and "ALLOWED_HOSTS must be set" in result.stderr


def test_deploy_check_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PROD)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_task_broker_is_the_database_by_default_and_redis_on_request():
    show = ["shell", "-c", "from django.conf import settings; print(sorted(settings.Q_CLUSTER.items()))"]
    default = manage(*show, DATABASE_URL="sqlite:///:memory:")
    assert default.returncode == 0, default.stderr
    assert "('orm', 'default')" in default.stdout and "redis" not in default.stdout
    redis = manage(*show, DATABASE_URL="sqlite:///:memory:", Q_BROKER="redis", Q_REDIS_URL="redis://cache:6379/2")
    assert redis.returncode == 0, redis.stderr
    assert "('redis', 'redis://cache:6379/2')" in redis.stdout and "'orm'" not in redis.stdout

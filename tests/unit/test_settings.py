"""config.Settings: every setting read from the environment, checked, and documented in .env.example."""

from __future__ import annotations

import dataclasses
import re
import runpy
from pathlib import Path

import pytest
from dotenv import dotenv_values
from limits import parse_many
from limits.storage import SCHEMES

from config import (
    PAYMENT_PROVIDERS,
    RATE_LIMIT_STORAGES,
    ConfigurationError,
    Settings,
    default_workers,
    read_one,
    start_warnings,
)
from ticketing.services import gateways

ROOT = Path(__file__).resolve().parents[2]
# The app.config keys the app reads (and other branches' code); they must stay.
APP_KEYS = {
    "APP_ENV",
    "SQLALCHEMY_DATABASE_URI",
    "JWT_SECRET_KEY",
    "ACCESS_TOKEN_TTL_SECONDS",
    "REFRESH_TOKEN_TTL_SECONDS",
    "HOLD_TTL_SECONDS",
    "CHECKOUT_TTL_SECONDS",
    "MAX_SEATS_PER_USER",
    "MAX_HOLDS_PER_ADDRESS",
    "LOCK_TIMEOUT_MS",
    "PAYMENT_PROVIDER",
    "ALLOW_TEST_PAYMENTS",
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "MAX_CONTENT_LENGTH",
    "MAX_URL_LENGTH",
    "MAX_HEADER_BYTES",
    "MAX_HEADER_COUNT",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_ADDRESS_FAILURE_LIMIT",
    "REGISTER_LIMIT",
    "RATE_LIMIT_STORAGE_URL",
    "CORS_ORIGINS",
    "LOG_LEVEL",
    "PROXY_COUNT",
    "CHANGES_POLL_MS",
    "MAX_HELD_FEEDS_PER_ADDRESS",
    "SEAT_MAP_CACHE_MB",
    "SEAT_MAP_DIR",
    "METRICS_TOKEN",
    "DATABASE_POOLER",
    "DATABASE_POOL_SIZE",
    "DATABASE_MAX_OVERFLOW",
    "DATABASE_POOL_TIMEOUT_MS",
}


def _refused(environ: dict) -> str:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_environment(environ)
    return str(refused.value)


def test_an_empty_environment_gives_the_defaults():
    settings = Settings.from_environment({})
    assert settings == Settings()
    assert (settings.app_env, settings.hold_ttl_seconds, settings.lock_timeout_ms) == ("production", 60, 3000)
    assert (settings.web_concurrency, settings.gunicorn_threads) == (default_workers(), 8)
    assert settings.bind == ["127.0.0.1:8000"]


def test_unset_empty_and_blank_all_mean_the_default():
    assert Settings.from_environment({"HOLD_TTL_SECONDS": "", "LOCK_TIMEOUT_MS": "  ", "PORT": None}) == Settings()


def test_app_config_keeps_the_keys_the_app_reads(tmp_path):
    config = Settings.from_environment({}).app_config(str(tmp_path))
    assert set(config) == APP_KEYS
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'ticketing.sqlite3'}"
    assert config["CORS_ORIGINS"] == [] and config["JWT_SECRET_KEY"] is None


def test_good_values_are_read_into_their_types(tmp_path):
    settings = Settings.from_environment(
        {
            "APP_ENV": "development",
            "DATABASE_URL": "postgresql+psycopg://app:pw@db.internal:5432/ticketing",
            "HOLD_TTL_SECONDS": " 90 ",
            "LOCK_TIMEOUT_MS": "60000",
            "PROXY_COUNT": "0",
            "LOG_LEVEL": "debug",
            "LOGIN_FAILURE_LIMIT": "2 per 4 seconds",
            "REGISTER_LIMIT": "20/hour;100/day",
            "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
            "CORS_ORIGINS": "https://shop.example, http://localhost:3000",
            "GUNICORN_BIND": "0.0.0.0:8000,unix:/run/ticketing.sock,[::1]:9000",
            "WEB_CONCURRENCY": "3",
            "GUNICORN_THREADS": "256",
            "GUNICORN_MAX_REQUESTS": "0",
            "FORWARDED_ALLOW_IPS": "10.0.0.0/8,::1",
            "PROMETHEUS_MULTIPROC_DIR": "/run/ticketing/metrics",
        }
    )
    assert (settings.hold_ttl_seconds, settings.lock_timeout_ms, settings.log_level) == (90, 60000, "DEBUG")
    assert settings.cors_origins == ("https://shop.example", "http://localhost:3000")
    assert settings.bind == ["0.0.0.0:8000", "unix:/run/ticketing.sock", "[::1]:9000"]
    assert (settings.web_concurrency, settings.gunicorn_threads, settings.gunicorn_max_requests) == (3, 256, 0)
    config = settings.app_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app:pw@db.internal:5432/ticketing"
    assert config["CORS_ORIGINS"] == ["https://shop.example", "http://localhost:3000"]
    assert config["LOGIN_FAILURE_LIMIT"] == "2 per 4 seconds"


def test_the_message_names_the_variable_the_value_and_what_is_allowed():
    assert _refused({"HOLD_TTL_SECONDS": "abc"}) == "HOLD_TTL_SECONDS must be a whole number from 1 to 86400, got 'abc'"


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("HOLD_TTL_SECONDS", "0", "a whole number from 1 to 86400"),
        ("HOLD_TTL_SECONDS", "86401", "a whole number from 1 to 86400"),
        ("CHECKOUT_TTL_SECONDS", "1.5", "a whole number from 1 to 86400"),
        ("LOCK_TIMEOUT_MS", "-5", "a whole number from 1 to 60000"),
        ("LOCK_TIMEOUT_MS", "3s", "a whole number from 1 to 60000"),
        ("GUNICORN_THREADS", "257", "a whole number from 1 to 256"),
        ("WEB_CONCURRENCY", "0", "a whole number from 1 to 64"),
        ("PORT", "65536", "a whole number from 1 to 65535"),
        ("APP_ENV", "staging", "one of production, development, testing"),
        ("APP_ENV", "Production", "one of production, development, testing"),
        ("LOG_LEVEL", "verbose", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("PAYMENT_PROVIDER", "paypal", "one of fake, stripe"),
        ("ALLOW_TEST_PAYMENTS", "yes", "0 or 1"),
        ("STRIPE_API_BASE", "api.stripe.com", "an http(s) URL"),
        ("LOGIN_FAILURE_LIMIT", "ten a minute", "a rate such as 10/minute"),
        ("REGISTER_LIMIT", "20/fortnight", "a rate such as 10/minute"),
        ("CORS_ORIGINS", "https://shop.example/", "origins such as https://shop.example"),
        ("CORS_ORIGINS", "shop.example", "origins such as https://shop.example"),
        ("GUNICORN_BIND", "0.0.0.0:99999", "addresses such as 0.0.0.0:8000"),
        ("GUNICORN_BIND", "localhost", "addresses such as 0.0.0.0:8000"),
        ("FORWARDED_ALLOW_IPS", "proxy.internal", "IP addresses or networks"),
        ("DATABASE_POOLER", "pgpool", "one of none, pgbouncer"),
        ("DATABASE_POOL_SIZE", "0", "a whole number from 1 to 1000"),
        ("DATABASE_MAX_OVERFLOW", "-1", "a whole number from 0 to 1000"),
        ("ALLOW_PER_PROCESS_LIMITS", "yes", "0 or 1"),
    ],
)
def test_each_kind_of_bad_value_is_refused(name, value, allowed):
    message = _refused({name: value})
    assert message.startswith(f"{name} must be {allowed}")
    assert message.endswith(f"got {value!r}")


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_URL", "app:hunter2@db.internal/ticketing"), ("RATE_LIMIT_STORAGE_URL", "mongodb://u:hunter2@h/")],
)
def test_a_bad_value_that_may_hold_a_password_is_not_repeated(name, value):
    message = _refused({name: value})
    assert message.startswith(f"{name} must be ") and "hunter2" not in message


def test_secrets_stay_out_of_the_repr():
    settings = Settings.from_environment(
        {"JWT_SECRET_KEY": "hunter2-key", "DATABASE_URL": "postgresql://u:hunter2@h/d"}
    )
    assert "hunter2" not in repr(settings)


def test_one_error_names_every_bad_variable():
    message = _refused(
        {"HOLD_TTL_SECONDS": "abc", "LOG_LEVEL": "loud", "GUNICORN_THREADS": "0", "MAX_SEATS_PER_USER": "5"}
    )
    assert "\n" not in message
    bad = re.findall(r"([A-Z_]+) must be", message)
    assert bad == ["HOLD_TTL_SECONDS", "LOG_LEVEL", "GUNICORN_THREADS"]
    assert "got 'abc'" in message and "got 'loud'" in message and "got '0'" in message


def test_production_needs_a_secret_and_the_others_do_not():
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY is not set"):
        Settings.from_environment({}).require_secret()
    Settings.from_environment({"JWT_SECRET_KEY": "k" * 40}).require_secret()
    Settings.from_environment({"APP_ENV": "development"}).require_secret()


def _production(**values: str) -> Settings:
    return Settings.from_environment({"APP_ENV": "production", "JWT_SECRET_KEY": "k" * 40, **values})


def test_production_refuses_several_processes_counting_limits_each_on_its_own():
    with pytest.raises(ConfigurationError) as refused:
        _production().require_shared_limits(workers=5)
    message = str(refused.value)
    assert "\n" not in message and "5 worker processes" in message
    assert "redis://" in message and "ALLOW_PER_PROCESS_LIMITS=1" in message


@pytest.mark.parametrize(
    "settings, workers",
    [
        (_production(), 1),  # one process: its counts are the only ones this host has
        (_production(ALLOW_PER_PROCESS_LIMITS="1"), 5),  # the operator said so
        (_production(RATE_LIMIT_STORAGE_URL="redis://127.0.0.1:6379/0"), 5),
        (Settings.from_environment({"APP_ENV": "development"}), 5),
    ],
    ids=["one worker", "opted out", "redis", "development"],
)
def test_shared_limits_are_not_asked_for_where_they_are_not_needed(settings, workers):
    settings.require_shared_limits(workers=workers)


def test_each_worker_can_say_its_share_of_the_connection_budget():
    postgres = {"DATABASE_URL": "postgresql+psycopg://app@db.internal/ticketing"}
    share = Settings.from_environment(postgres).connection_share(workers=5, threads=8)
    assert "keeps 5 and opens at most 9" in share and "5 x 9 = 45" in share and "max_connections" in share
    assert "503 busy" not in share  # 9 connections cover 8 threads and the feed watcher
    small = Settings.from_environment({**postgres, "DATABASE_POOL_SIZE": "2", "DATABASE_MAX_OVERFLOW": "0"})
    assert "opens at most 2" in small.connection_share(workers=3, threads=8)
    assert "503 busy" in small.connection_share(workers=3, threads=8)
    pooled = Settings.from_environment({**postgres, "DATABASE_POOLER": "pgbouncer"})
    assert "to PgBouncer" in pooled.connection_share(workers=2, threads=8)


def test_read_one_checks_only_its_own_variable():
    environ = {"PROMETHEUS_MULTIPROC_DIR": "/tmp/metrics", "HOLD_TTL_SECONDS": "abc"}
    assert read_one("PROMETHEUS_MULTIPROC_DIR", environ) == "/tmp/metrics"
    assert read_one("PROMETHEUS_MULTIPROC_DIR", {}) is None


def test_every_setting_is_declared_with_a_description_and_allowed_values():
    for name, spec in Settings.specs().items():
        assert name == name.upper() and spec.description and spec.kind.allowed, name
    assert all(field.metadata.get("spec") for field in dataclasses.fields(Settings))


# --- agreement with the libraries that use the values -----------------------------------------

RATES = [
    "10/minute",
    "10 per minute",
    "2 per 4 seconds",
    "20/hour;100/day",
    "1/second, 5/minute",
    "5 / HOUR",
    "10/minute|20/hour",
    "ten a minute",
    "20/fortnight",
    "10/",
    "/minute",
    "10 minutes",
    "10/minute;",
]


@pytest.mark.parametrize("rate", RATES)
def test_the_rate_check_agrees_with_limits(rate):
    try:
        parse_many(rate)
        limits_accepts = True
    except ValueError:
        limits_accepts = False
    try:
        Settings.from_environment({"LOGIN_FAILURE_LIMIT": rate})
        ours_accepts = True
    except ConfigurationError:
        ours_accepts = False
    assert ours_accepts == limits_accepts


def test_rate_limit_storages_are_known_to_limits():
    assert set(RATE_LIMIT_STORAGES) <= set(SCHEMES)


def test_payment_providers_are_the_gateways():
    assert set(PAYMENT_PROVIDERS) == set(gateways._GATEWAYS)
    for provider in PAYMENT_PROVIDERS:
        assert gateways.make_gateway(provider).name == provider


# --- the documentation says what the code does -------------------------------------------------


def _example_lines() -> dict[str, str]:
    """The variables .env.example shows, set or commented out (`# NAME=value`), with their text."""
    example = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", example, flags=re.MULTILINE))


def test_env_example_shows_every_setting_and_no_other():
    assert set(_example_lines()) == set(Settings.specs())


def test_env_example_values_are_the_defaults_and_leave_app_env_to_the_environment():
    example = {name: value for name, value in dotenv_values(ROOT / ".env.example").items() if value is not None}
    # A copy of it left as .env must not turn production commands into development ones.
    assert "APP_ENV" not in example
    assert Settings.from_environment(example) == Settings()


def test_the_settings_doc_lists_every_setting():
    listed = (ROOT / "docs" / "settings.md").read_text()
    missing = [name for name in Settings.specs() if f"`{name}`" not in listed]
    assert not missing


def test_holds_per_address_default_to_four_times_the_per_user_limit(tmp_path):
    derived = Settings.from_environment({"MAX_SEATS_PER_USER": "6"}).app_config(str(tmp_path))
    assert derived["MAX_HOLDS_PER_ADDRESS"] == 24
    chosen = Settings.from_environment({"MAX_HOLDS_PER_ADDRESS": "7"}).app_config(str(tmp_path))
    assert chosen["MAX_HOLDS_PER_ADDRESS"] == 7


def test_production_without_a_metrics_token_is_warned_about(tmp_path):
    production = {"APP_ENV": "production", "JWT_SECRET_KEY": "k" * 40, "PAYMENT_PROVIDER": "stripe"}

    def warnings(environ):
        config = Settings.from_environment(environ).app_config(str(tmp_path))
        return [w for w in start_warnings(config, workers=1) if "METRICS_TOKEN" in w]

    assert len(warnings(production)) == 1
    assert warnings({**production, "METRICS_TOKEN": "t"}) == []
    assert warnings({"APP_ENV": "development"}) == []


@pytest.mark.parametrize(
    "limits",
    [{}, {"MAX_URL_LENGTH": "8000", "MAX_HEADER_BYTES": "65536", "MAX_HEADER_COUNT": "1000"}],
    ids=["defaults", "largest"],
)
def test_gunicorn_limits_sit_above_the_apps(monkeypatch, limits):
    """So that a head past the app's limit reaches the app, which answers JSON, not gunicorn's page."""
    for name, value in {"APP_ENV": "testing", **limits}.items():
        monkeypatch.setenv(name, value)
    gunicorn = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    settings = Settings.from_environment(limits)
    assert gunicorn["limit_request_line"] <= 8190  # gunicorn's maximum; it would quietly cap it
    assert gunicorn["limit_request_line"] > settings.max_url_length + len("OPTIONS  HTTP/1.1")
    assert gunicorn["limit_request_field_size"] > settings.max_header_bytes
    assert settings.max_header_count < gunicorn["limit_request_fields"] <= 32768

"""Production is not a demo: what refuses a start, what is warned about, and which settings files count."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from config import (
    SECRET_REQUIRED,
    STRIPE_KEY_REQUIRED,
    TEST_PAYMENTS_REFUSED,
    ConfigurationError,
    dotenv_paths,
    environment_with_dotenv,
    stale_development_dotenv,
    start_refusals,
    start_warnings,
    weak_secret,
)
from ticketing import create_app
from ticketing.services.gateways import FakeGateway, StripeGateway

ROOT = Path(__file__).resolve().parents[2]
STRONG = "q8Jx2cV7rN0aLk5WmZ3tYb9HsD4fG6pE1uI"  # 35 characters, published nowhere else
POSTGRES = "postgresql+psycopg://app@db.internal:5432/ticketing"
# A production configuration with nothing to warn about (app.config keys).
CLEAN = {
    "APP_ENV": "production",
    "JWT_SECRET_KEY": STRONG,
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_API_KEY": "sk_live_x",
    "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
    "SQLALCHEMY_DATABASE_URI": POSTGRES,
    "CORS_ORIGINS": ["https://shop.example"],
    "METRICS_TOKEN": "a-long-random-metrics-token",
}


def test_production_refuses_no_secret_and_the_test_gateway():
    config = {"APP_ENV": "production", "PAYMENT_PROVIDER": "fake"}
    assert start_refusals(config) == [SECRET_REQUIRED, TEST_PAYMENTS_REFUSED]
    assert start_refusals({**config, "JWT_SECRET_KEY": STRONG}) == [TEST_PAYMENTS_REFUSED]
    assert start_refusals({**config, "JWT_SECRET_KEY": STRONG, "ALLOW_TEST_PAYMENTS": True}) == []
    assert start_refusals(CLEAN) == []


def test_a_command_that_serves_nothing_needs_no_secret():
    config = {"APP_ENV": "production", "PAYMENT_PROVIDER": "fake", "ALLOW_TEST_PAYMENTS": True}
    assert start_refusals(config, serving=False) == []
    assert start_refusals({**config, "ALLOW_TEST_PAYMENTS": False}, serving=False) == [TEST_PAYMENTS_REFUSED]


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_elsewhere_the_test_gateway_is_fine_but_stripe_needs_its_key(environment):
    assert start_refusals({"APP_ENV": environment, "PAYMENT_PROVIDER": "fake"}) == []
    assert start_refusals({"APP_ENV": environment, "PAYMENT_PROVIDER": "stripe"}) == [STRIPE_KEY_REQUIRED]


def test_the_refusal_names_the_setting_and_the_way_out():
    assert "PAYMENT_PROVIDER is fake" in TEST_PAYMENTS_REFUSED and "ALLOW_TEST_PAYMENTS=1" in TEST_PAYMENTS_REFUSED
    assert "\n" not in TEST_PAYMENTS_REFUSED + SECRET_REQUIRED + STRIPE_KEY_REQUIRED  # one line


def test_create_app_refuses_production_with_the_test_gateway():
    config = {"APP_ENV": "production", "JWT_SECRET_KEY": STRONG, "PAYMENT_PROVIDER": "fake", "TESTING": True}
    with pytest.raises(ConfigurationError, match="PAYMENT_PROVIDER is fake"):
        create_app({**config, "SQLALCHEMY_DATABASE_URI": POSTGRES, "ALLOW_TEST_PAYMENTS": False})
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY is not set"):
        create_app({**config, "JWT_SECRET_KEY": None, "ALLOW_TEST_PAYMENTS": True})


def test_create_app_with_test_payments_allowed_warns_once_per_process(caplog, monkeypatch):
    monkeypatch.setattr("ticketing.startup._warned", set())
    config = {"APP_ENV": "production", "JWT_SECRET_KEY": STRONG, "PAYMENT_PROVIDER": "fake"}
    config |= {"ALLOW_TEST_PAYMENTS": True, "SQLALCHEMY_DATABASE_URI": POSTGRES, "TESTING": True}
    with caplog.at_level(logging.WARNING, logger="ticketing.startup"):
        create_app(config)
        create_app(config)
    assert [record.getMessage() for record in caplog.records if "ALLOW_TEST_PAYMENTS" in record.getMessage()] == [
        start_warnings(config, workers=1)[0]
    ]


def test_clean_production_settings_warn_of_nothing():
    assert start_warnings(CLEAN, workers=5, forwarded_allow_ips="10.0.0.0/8") == []


@pytest.mark.parametrize(
    ("change", "workers", "expected"),
    [
        ({"PAYMENT_PROVIDER": "fake", "ALLOW_TEST_PAYMENTS": True}, 1, "no money is taken"),
        ({"JWT_SECRET_KEY": "x" * 31}, 1, "JWT_SECRET_KEY is shorter than 32 characters"),
        ({"JWT_SECRET_KEY": "test-secret-that-is-long-enough-for-hs256-signing"}, 1, "a published example"),
        ({"RATE_LIMIT_STORAGE_URL": "memory://"}, 5, "memory:// with 5 worker processes"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/app/instance/ticketing.sqlite3"}, 1, "SQLite"),
        ({"CORS_ORIGINS": ["https://shop.example", "http://shop.example"]}, 1, "plain-HTTP pages"),
    ],
)
def test_each_unsafe_production_setting_is_warned_about(change, workers, expected):
    warnings = start_warnings({**CLEAN, **change}, workers=workers)
    assert len(warnings) == 1 and expected in warnings[0]
    assert start_warnings({**CLEAN, **change, "APP_ENV": "development"}, workers=workers) == []


def test_memory_counters_in_one_process_and_trusting_every_proxy():
    assert start_warnings({**CLEAN, "RATE_LIMIT_STORAGE_URL": "memory://"}, workers=1) == []
    assert "FORWARDED_ALLOW_IPS=*" in start_warnings(CLEAN, workers=1, forwarded_allow_ips="*")[0]


def test_every_secret_the_docs_show_is_a_weak_one():
    """A JWT_SECRET_KEY value copied from the project's docs is warned about in production."""
    docs = [ROOT / "README.md", ROOT / ".env.example", *sorted((ROOT / "docs").rglob("*")), *ROOT.glob("*.py")]
    shown = set()
    for path in docs:
        if path.is_file() and path.suffix in {".md", ".example", ".py", ".service", ".conf", ".env", ""}:
            shown |= set(
                re.findall(r"JWT_SECRET_KEY\s*[=:]\s*\"?([A-Za-z0-9_\-]{8,})", path.read_text(errors="ignore"))
            )
    assert all(weak_secret(secret) for secret in shown), shown


# --- which settings files count ----------------------------------------------------------------


@pytest.fixture
def files(tmp_path) -> Path:
    """A `.env` and a `.env.development` in a folder of their own; returns the `.env` path."""
    (tmp_path / ".env").write_text("HOLD_TTL_SECONDS=30\n")
    (tmp_path / ".env.development").write_text("HOLD_TTL_SECONDS=5\nLOCK_TIMEOUT_MS=100\nLOG_LEVEL=DEBUG\n")
    return tmp_path / ".env"


def test_production_commands_never_read_the_development_file(files):
    assert dotenv_paths(files, {}) == [files]
    assert dotenv_paths(files, {"APP_ENV": "production"}) == [files]
    environment = environment_with_dotenv(files, {"APP_ENV": "production"})
    assert environment == {"APP_ENV": "production", "HOLD_TTL_SECONDS": "30"}


def test_make_runs_development_reads_it_behind_the_environment_and_env(files):
    assert dotenv_paths(files, {"APP_ENV": "development"}) == [files, files.with_name(".env.development")]
    environment = environment_with_dotenv(files, {"APP_ENV": "development", "LOG_LEVEL": "INFO"})
    assert environment == {
        "APP_ENV": "development",
        "HOLD_TTL_SECONDS": "30",
        "LOCK_TIMEOUT_MS": "100",
        "LOG_LEVEL": "INFO",
    }


def test_a_development_env_file_left_behind_is_named(files):
    assert stale_development_dotenv(files) is None
    files.write_text("APP_ENV=development\n")
    assert ".env sets APP_ENV=development" in stale_development_dotenv(files)
    assert stale_development_dotenv(files.with_name("missing")) is None


# --- the page ----------------------------------------------------------------------------------


def test_only_the_test_gateway_has_test_cards():
    assert [token for token, _label in FakeGateway.test_cards] == [
        "tok_visa",
        "tok_chargeDeclined",
        "tok_processingError",
        "tok_refundFails",
    ]
    assert StripeGateway.test_cards == ()

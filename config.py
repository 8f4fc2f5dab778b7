"""Every setting of the service, declared once: environment variable, type, default, allowed values.

`Settings.from_environment(environ)` reads them all and refuses bad values with one
`ConfigurationError` that names each bad variable. `create_app` (through `app_config()`) and
gunicorn.conf.py both take their settings from here; `.env.example` documents the same list (a
test checks it). An attribute is its variable's name in lower case (`hold_ttl_seconds` is
HOLD_TTL_SECONDS); an unset or empty variable takes the default.

Only the standard library is imported: the gunicorn master reads this module, and a module the
master holds is inherited by its workers instead of being loaded from disk after `kill -HUP`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("production", "development", "testing")
DATABASE_POOLERS = ("none", "pgbouncer")  # what stands between the app and PostgreSQL
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PAYMENT_PROVIDERS = ("fake", "stripe")  # the gateways of services/gateways.py (a test keeps them in step)
# The `limits` storages this service supports (protection.py gives Redis short socket timeouts);
# a test checks that `limits` knows each scheme.
RATE_LIMIT_STORAGES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")

SECRET_REQUIRED = (
    "JWT_SECRET_KEY is not set. Set it to a long random string (for example the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), or set APP_ENV=development "
    "to run with a generated key."
)
TEST_PAYMENTS_REFUSED = (
    "PAYMENT_PROVIDER is fake, the test gateway: production would hand out tickets for test cards "
    "without taking any money. Set PAYMENT_PROVIDER=stripe and STRIPE_API_KEY, or ALLOW_TEST_PAYMENTS=1 "
    "to run production with test payments on purpose."
)
STRIPE_KEY_REQUIRED = "STRIPE_API_KEY is not set: PAYMENT_PROVIDER=stripe needs the gateway's secret API key."
# JWT secrets published somewhere (docs, examples, this repository's tests): never a production key.
KNOWN_EXAMPLE_SECRETS = frozenset(
    {"secret", "changeme", "change-me", "your-secret-key", "test-secret-that-is-long-enough-for-hs256-signing"}
)
MIN_SECRET_LENGTH = 32
# The development settings `make run` writes and uses, beside `.env` (see dotenv_paths).
DEVELOPMENT_DOTENV = ".env.development"
# Set by gunicorn.conf.py in the master, which logs the start warnings: the workers inherit it and
# do not log them again each.
WARNED_AT_START = "TICKETING_WARNED_AT_START"


class ConfigurationError(RuntimeError):
    """The settings do not allow the service to start."""


@dataclass(frozen=True)
class Kind:
    """What a setting's text may be: `parse` returns the value or raises ValueError."""

    allowed: str  # completes "NAME must be ..."
    parse: Callable[[str], Any]
    strip: bool = True  # parse the text without surrounding blanks (free text is taken as written)


@dataclass(frozen=True)
class Spec:
    """One setting's declaration (the metadata of its dataclass field)."""

    kind: Kind
    description: str
    app_key: str | None  # its app.config key; None: gunicorn's alone
    secret: bool  # a bad value is not repeated in the message: it may hold a password


def setting(
    kind: Kind,
    default: Any,
    description: str,
    *,
    app: bool | str = True,
    secret: bool = False,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """Declare a setting; `app` is True (in app.config by its name), a different key, or False.

    A `secret` one is left out of the repr, and a bad value of it is not repeated in the message.
    """
    spec = Spec(kind, description, app if isinstance(app, str) else ("" if app else None), secret)
    if default_factory is not None:
        return field(default_factory=default_factory, repr=not secret, metadata={"spec": spec})
    return field(default=default, repr=not secret, metadata={"spec": spec})


# --- kinds -------------------------------------------------------------------------------------


def whole(low: int, high: int) -> Kind:
    """A whole number from `low` to `high`."""

    def parse(raw: str) -> int:
        if not re.fullmatch(r"-?[0-9]+", raw) or not low <= int(raw) <= high:
            raise ValueError(raw)
        return int(raw)

    return Kind(f"a whole number from {low} to {high}", parse)


def one_of(options: tuple[str, ...], *, upper: bool = False) -> Kind:
    """One of `options`; with `upper`, in any case (the value is upper-cased)."""

    def parse(raw: str) -> str:
        value = raw.upper() if upper else raw
        if value not in options:
            raise ValueError(raw)
        return value

    return Kind(f"one of {', '.join(options)}", parse)


def url(example: str, schemes: tuple[str, ...] | None = None) -> Kind:
    """A URL `scheme://...`, with one of `schemes` when given."""

    def parse(raw: str) -> str:
        match = re.match(r"([A-Za-z][A-Za-z0-9+]*)://", raw)
        if not match or (schemes is not None and match.group(1).lower() not in schemes):
            raise ValueError(raw)
        return raw

    return Kind(example, parse)


_RATE = re.compile(r"[0-9]+\s*(/|\s*per\s*)\s*([0-9]+)?\s*(second|minute|hour|day|month|year)s?", re.IGNORECASE)


def _rate(raw: str) -> str:
    # The grammar of `limits.parse_many` (a test compares the two), without importing `limits` here.
    if not all(_RATE.fullmatch(part.strip()) for part in re.split(r"[,;|]", raw)):
        raise ValueError(raw)
    return raw


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(origin.strip() for origin in raw.split(",") if origin.strip())
    # Compared with the Origin header as written: a path or a trailing slash would never match.
    if not all(re.fullmatch(r"https?://[^/\s]+", origin) for origin in origins):
        raise ValueError(raw)
    return origins


def _addresses(raw: str) -> tuple[str, ...]:
    addresses = tuple(address.strip() for address in raw.split(","))
    for address in addresses:
        if re.fullmatch(r"unix:\S+|fd://[0-9]+", address):
            continue
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(raw)
    return addresses


def _networks(raw: str) -> str:
    for item in raw.split(","):
        if item.strip() != "*":
            ipaddress.ip_network(item.strip(), strict=False)  # ValueError when it is not one
    return raw


def _flag(raw: str) -> bool:
    if raw.lower() not in ("0", "1", "true", "false"):
        raise ValueError(raw)
    return raw.lower() in ("1", "true")


TEXT = Kind("text", str, strip=False)
FLAG = Kind("0 or 1 (or false, true)", _flag)
RATE = Kind("a rate such as 10/minute, 2 per 4 seconds or 10/minute;100/hour", _rate)
ORIGINS = Kind("origins such as https://shop.example (scheme and host, no path), separated by commas", _origins)
ADDRESSES = Kind("addresses such as 0.0.0.0:8000 or unix:/run/ticketing.sock, separated by commas", _addresses)
NETWORKS = Kind("IP addresses or networks separated by commas, or *", _networks)


def default_workers() -> int:
    """Two worker processes per core this process may use, plus one, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))  # the CPUs this process may use, not all of the host's
    except AttributeError:
        cores = os.cpu_count() or 1
    return min(2 * cores + 1, 8)


# --- the settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The service's settings, each declared once (see the module's docstring)."""

    # The app's, in app.config under the same name (DATABASE_URL is SQLALCHEMY_DATABASE_URI).
    app_env: str = setting(
        one_of(ENVIRONMENTS), "production", "production needs JWT_SECRET_KEY; development keeps a generated one"
    )
    database_url: str | None = setting(
        url("a database URL such as postgresql+psycopg://user@host:5432/name or sqlite:///path"),
        None,
        "SQLAlchemy URL of the database; unset: a SQLite file in instance/",
        app="SQLALCHEMY_DATABASE_URI",
        secret=True,
    )
    jwt_secret_key: str | None = setting(
        TEXT, None, "signs the JWTs; one key on every host; required in production", secret=True
    )
    access_token_ttl_seconds: int = setting(whole(1, 86_400), 3600, "lifetime of access tokens, in seconds")
    refresh_token_ttl_seconds: int = setting(
        whole(1, 365 * 86_400), 30 * 86_400, "lifetime of refresh tokens, in seconds"
    )
    hold_ttl_seconds: int = setting(whole(1, 86_400), 60, "how long a seat hold lasts, in seconds")
    checkout_ttl_seconds: int = setting(whole(1, 86_400), 600, "how long an unpaid order keeps its seats, in seconds")
    max_seats_per_user: int = setting(whole(1, 100_000), 10, "most seats one user may hold in one event at a time")
    max_holds_per_address: int = setting(
        whole(0, 10_000_000),
        0,
        "most seats held in one event by all accounts behind one client address (0: 4 x MAX_SEATS_PER_USER)",
    )
    lock_timeout_ms: int = setting(whole(1, 60_000), 3000, "longest wait for a database row lock, in milliseconds")
    database_pooler: str = setting(
        one_of(DATABASE_POOLERS),
        "none",
        "pgbouncer: PostgreSQL is reached through PgBouncer in transaction mode (no prepared statements, "
        "lock_timeout set in each transaction)",
    )
    database_pool_size: int = setting(whole(1, 1000), 5, "PostgreSQL connections each worker process keeps open")
    database_max_overflow: int = setting(
        whole(0, 1000), 4, "connections a worker process may open beyond DATABASE_POOL_SIZE when busy"
    )
    database_pool_timeout_ms: int = setting(
        whole(1, 60_000), 2000, "longest wait for a free connection of the worker's pool, in milliseconds"
    )
    payment_provider: str = setting(
        one_of(PAYMENT_PROVIDERS), "fake", "the payment gateway; fake (test cards, no money) is refused in production"
    )
    allow_test_payments: bool = setting(
        FLAG, False, "1: production may run with the fake gateway (logged as a warning at start)"
    )
    stripe_api_key: str | None = setting(
        TEXT, None, "secret API key of the stripe gateway; required when PAYMENT_PROVIDER=stripe", secret=True
    )
    stripe_api_base: str = setting(
        url("an http(s) URL such as https://api.stripe.com", ("http", "https")),
        "https://api.stripe.com",
        "base URL of the stripe gateway's API",
    )
    max_content_length: int = setting(whole(1024, 100 * 1024 * 1024), 1024 * 1024, "largest request body, in bytes")
    # The request head's limits, answered by the app in JSON (414, 431); gunicorn's own limits are
    # set above them (gunicorn.conf.py), so its plain answers come only for heads far past these.
    max_url_length: int = setting(whole(256, 8000), 4096, "longest request target (path and query), in bytes")
    max_header_bytes: int = setting(whole(1024, 65_536), 8190, "largest request header field (name and value)")
    max_header_count: int = setting(whole(16, 1000), 100, "most header fields in one request")
    login_failure_limit: str = setting(RATE, "10/minute", "failed logins allowed per account")
    login_address_failure_limit: str = setting(RATE, "50/minute", "failed logins allowed per client address")
    register_limit: str = setting(RATE, "20/hour", "registrations allowed per client address")
    rate_limit_storage_url: str = setting(
        url("memory:// or a Redis URL such as redis://127.0.0.1:6379/0", RATE_LIMIT_STORAGES),
        "memory://",
        "where rate-limit counters live",
        secret=True,
    )
    cors_origins: tuple[str, ...] = setting(ORIGINS, (), "browser origins allowed to call the API cross-site")
    log_level: str = setting(one_of(LOG_LEVELS, upper=True), "INFO", "level of the app's logs (and gunicorn's)")
    proxy_count: int = setting(whole(0, 10), 0, "trusted reverse proxies in front, for X-Forwarded-For")
    changes_poll_ms: int = setting(whole(10, 10_000), 500, "how often held change-feed requests look, in ms")
    max_held_feeds_per_address: int = setting(
        whole(1, 100_000),
        20,
        "held change-feed requests one client address may have open in each worker process; more: 429",
    )
    seat_map_cache_mb: int = setting(
        whole(0, 4096),
        32,
        "megabytes of built seat maps kept (the latest of each event and filter), as files shared by the "
        "host's workers (SEAT_MAP_DIR) or else in each worker's memory; 0: every map is built for its request",
    )
    seat_map_dir: str | None = setting(
        TEXT,
        None,
        "directory where the worker processes of a host share the seat maps they build (private to the "
        "server's user); unset: ticketing-seat-maps-<uid> in /dev/shm, or in the temporary directory",
    )
    metrics_token: str | None = setting(
        TEXT, None, "the Bearer token GET /metrics requires; unset: /metrics is open to anyone", secret=True
    )

    # gunicorn's (gunicorn.conf.py), not in app.config.
    gunicorn_bind: tuple[str, ...] = setting(ADDRESSES, (), "addresses to listen on; unset: 127.0.0.1:PORT", app=False)
    port: int = setting(whole(1, 65_535), 8000, "port on 127.0.0.1 when GUNICORN_BIND is unset", app=False)
    web_concurrency: int = setting(
        whole(1, 64),
        None,
        "worker processes; unset: 2 x cores + 1, at most 8",
        app=False,
        default_factory=default_workers,
    )
    gunicorn_threads: int = setting(whole(1, 256), 8, "threads per worker process", app=False)
    gunicorn_keepalive: int = setting(whole(1, 3600), 5, "seconds an idle keep-alive connection stays", app=False)
    gunicorn_max_requests: int = setting(
        whole(0, 10_000_000), 10_000, "requests before a worker is replaced; 0: never", app=False
    )
    forwarded_allow_ips: str = setting(
        NETWORKS, "127.0.0.1,::1", "proxies whose X-Forwarded-Proto gunicorn trusts", app=False
    )
    prometheus_multiproc_dir: str | None = setting(TEXT, None, "directory of the workers' metric files", app=False)
    allow_per_process_limits: bool = setting(
        FLAG, False, "1: production may serve several processes with rate limits counted per process", app=False
    )

    @classmethod
    def specs(cls) -> dict[str, Spec]:
        """Every setting's variable name and declaration, in declaration order."""
        return {item.name.upper(): item.metadata["spec"] for item in fields(cls)}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str | None]) -> Settings:
        """Read every setting from `environ`; one ConfigurationError names every bad value."""
        values, problems = {}, []
        for name, spec in cls.specs().items():
            raw = environ.get(name) or ""
            if not raw.strip():
                continue
            try:
                values[name.lower()] = spec.kind.parse(raw.strip() if spec.kind.strip else raw)
            except ValueError:
                shown = "a value not repeated here (it may hold a password)" if spec.secret else repr(raw)
                problems.append(f"{name} must be {spec.kind.allowed}, got {shown}")
        if problems:
            raise ConfigurationError("; ".join(problems))
        return cls(**values)

    def app_config(self, instance_path: str) -> dict:
        """The app's settings under their app.config keys."""
        config = {}
        for name, spec in self.specs().items():
            if spec.app_key is not None:
                value = getattr(self, name.lower())
                config[spec.app_key or name] = list(value) if isinstance(value, tuple) else value
        if not self.max_holds_per_address:
            config["MAX_HOLDS_PER_ADDRESS"] = 4 * self.max_seats_per_user
        if not self.database_url:
            config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(instance_path) / "ticketing.sqlite3")
        return config

    def require_secret(self) -> None:
        """Refuse to serve production without JWT_SECRET_KEY."""
        if self.app_env == "production" and not self.jwt_secret_key:
            raise ConfigurationError(SECRET_REQUIRED)

    def require_shared_limits(self, workers: int) -> None:
        """Refuse production with several worker processes counting rate limits each on its own.

        Only this host's processes are known here: several hosts of one worker each are not.
        """
        if (
            self.app_env == "production"
            and workers > 1
            and self.rate_limit_storage_url.startswith("memory:")
            and not self.allow_per_process_limits
        ):
            raise ConfigurationError(
                f"RATE_LIMIT_STORAGE_URL=memory:// counts rate limits in each of the {workers} worker processes "
                f"separately (a limit of 10 lets {workers} x 10 through); set it to a Redis URL shared by every "
                "process and host, such as redis://127.0.0.1:6379/0, or set ALLOW_PER_PROCESS_LIMITS=1"
            )

    def connection_share(self, workers: int, threads: int) -> str:
        """One line for a worker's start-up log: its database connections, and this host's."""
        if not (self.database_url or "").startswith("postgresql"):
            return "database connections: SQLite, no connection budget to keep"
        most = self.database_pool_size + self.database_max_overflow
        line = (
            f"database connections: this worker keeps {self.database_pool_size} and opens at most {most} "
            f"(DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW); {workers} workers x {threads} threads: this host opens "
            f"at most {workers} x {most} = {workers * most}"
        )
        if self.database_pooler == "pgbouncer":
            line += " to PgBouncer (its pool sizes bound PostgreSQL's connections)"
        else:
            line += "; all hosts together must stay within PostgreSQL's max_connections minus the reserved ones"
        if most < threads + 1:
            line += (
                f"; fewer than the {threads} threads and the feed watcher: a request that finds no free connection "
                f"within DATABASE_POOL_TIMEOUT_MS ({self.database_pool_timeout_ms} ms) answers 503 busy"
            )
        return line

    @property
    def bind(self) -> list[str]:
        """gunicorn's listening addresses."""
        return list(self.gunicorn_bind) or [f"127.0.0.1:{self.port}"]


# --- what may start, and what to warn about ------------------------------------------------------


def start_refusals(config: Mapping[str, Any], *, serving: bool = True) -> list[str]:
    """Why the service must not start with these settings (app.config keys); empty when it may.

    `serving`: the process answers HTTP (gunicorn, `flask run`) and so signs tokens; a command that
    only takes part in payments (the sweeper) is held to the payment rules alone. Migrations and
    the other commands are held to none (wsgi.py).
    """
    refusals = []
    production = config.get("APP_ENV") == "production"
    if production and serving and not config.get("JWT_SECRET_KEY"):
        refusals.append(SECRET_REQUIRED)
    if production and config.get("PAYMENT_PROVIDER") == "fake" and not config.get("ALLOW_TEST_PAYMENTS"):
        refusals.append(TEST_PAYMENTS_REFUSED)
    if config.get("PAYMENT_PROVIDER") == "stripe" and not config.get("STRIPE_API_KEY"):
        refusals.append(STRIPE_KEY_REQUIRED)
    return refusals


def check_start(config: Mapping[str, Any], *, serving: bool = True) -> None:
    """Raise one ConfigurationError, one line, with every reason of `start_refusals`."""
    refusals = start_refusals(config, serving=serving)
    if refusals:
        raise ConfigurationError(" ".join(refusals))


def weak_secret(secret: str) -> bool:
    """A JWT secret too short to resist guessing, or one published as an example."""
    return len(secret) < MIN_SECRET_LENGTH or secret in KNOWN_EXAMPLE_SECRETS


def start_warnings(config: Mapping[str, Any], *, workers: int, forwarded_allow_ips: str = "") -> list[str]:
    """What is unsafe, though allowed, in production with these settings (app.config keys).

    `workers`: processes serving with these settings (each keeps its own memory:// counters).
    """
    if config.get("APP_ENV") != "production":
        return []
    warnings = []
    if config.get("PAYMENT_PROVIDER") == "fake":
        warnings.append(
            "ALLOW_TEST_PAYMENTS=1: production runs the fake payment gateway; orders are paid with test "
            "cards and no money is taken."
        )
    secret = config.get("JWT_SECRET_KEY") or ""
    if secret and weak_secret(secret):
        warnings.append(
            f"JWT_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters or a published example: whoever "
            "guesses it can sign tokens for any account. Use a long random one: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
    storage = config.get("RATE_LIMIT_STORAGE_URL") or "memory://"
    if storage.startswith("memory") and workers > 1:
        warnings.append(
            f"RATE_LIMIT_STORAGE_URL is memory:// with {workers} worker processes: each counts on its own, so "
            f"the login and registration limits are {workers} times looser. Use redis://."
        )
    if str(config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("sqlite"):
        warnings.append(
            "DATABASE_URL is SQLite (or unset): one host only, with every write queued behind the others. "
            "Use PostgreSQL in production."
        )
    plain = [origin for origin in config.get("CORS_ORIGINS") or () if origin.startswith("http://")]
    if plain:
        warnings.append(
            f"CORS_ORIGINS lets plain-HTTP pages call the API ({', '.join(plain)}): their tokens travel unencrypted."
        )
    if not config.get("METRICS_TOKEN"):
        warnings.append(
            "METRICS_TOKEN is not set: GET /metrics is open to anyone who can reach this host; set it "
            "(Prometheus sends it as a Bearer token) or block /metrics at the proxy."
        )
    if "*" in (item.strip() for item in forwarded_allow_ips.split(",")):
        warnings.append(
            "FORWARDED_ALLOW_IPS=*: any client may claim its request came over HTTPS. List the proxies' addresses."
        )
    return warnings


# --- settings files ------------------------------------------------------------------------------


def dotenv_paths(dotenv_path: Path, environ: Mapping[str, str | None] = os.environ) -> list[Path]:
    """The settings files behind the environment, the first one winning.

    `dotenv_path` (`.env`, the operator's own file, never written by the project) always;
    `.env.development` beside it only when the environment itself says APP_ENV=development (as
    `make run` does), so its development settings never reach a production command.
    """
    paths = [dotenv_path]
    if (environ.get("APP_ENV") or "").strip() == "development":
        paths.append(dotenv_path.with_name(DEVELOPMENT_DOTENV))
    return paths


def environment_with_dotenv(dotenv_path: Path, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`environ`, then what the settings files of `dotenv_paths` add: what wsgi.py's load_dotenv gives."""
    from dotenv import dotenv_values  # here, not at the top: only the gunicorn master and tools need it

    merged: dict[str, str] = {}
    for path in reversed(dotenv_paths(dotenv_path, environ)):
        if path.is_file():
            merged.update({name: value for name, value in dotenv_values(path).items() if value is not None})
    return {**merged, **environ}


def stale_development_dotenv(dotenv_path: Path) -> str | None:
    """A warning when `.env` sets APP_ENV=development (`make run` wrote such a file before .env.development)."""
    from dotenv import dotenv_values

    if not dotenv_path.is_file() or (dotenv_values(dotenv_path).get("APP_ENV") or "").strip() != "development":
        return None
    return (
        f"{dotenv_path.name} sets APP_ENV=development: a command without APP_ENV in its environment runs as "
        f"development. make run keeps its settings in {DEVELOPMENT_DOTENV} now; remove APP_ENV from {dotenv_path.name}."
    )


def read_one(name: str, environ: Mapping[str, str | None] = os.environ) -> Any:
    """One setting from `environ` (or its default), for code that runs before any app is built."""
    return getattr(Settings.from_environment({name: environ.get(name)}), name.lower())

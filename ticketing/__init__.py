"""The ticket booking service. `create_app` is the only place an app is built."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from config import WARNED_AT_START, ConfigurationError, Settings, check_start, start_warnings

from .api_docs import docs_settings, init_api_docs
from .blueprints import register_blueprints
from .blueprints.base import IdConverter, JSONProvider, id_parameter_schema
from .cli import register_commands
from .clock import SystemClock
from .database import configure_engine, engine_options, safe_session_teardown
from .errors import register_error_handlers
from .extensions import db, jwt, migrate
from .feed_watch import init_feed_watch
from .observability import init_observability
from .openapi import API_DESCRIPTION, document_shared_responses
from .protection import init_protection
from .schemas.common import ErrorSchema
from .security import register_token_callbacks
from .services.gateways import make_gateway
from .startup import warn_at_start
from .web import init_web

PROJECT_ROOT = Path(__file__).resolve().parent.parent


__all__ = ["ConfigurationError", "create_app"]


class _Api(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_responses(self):
        """flask-smorest's shared answers (the 400 of every route with a body or a query, the default),
        with the codes they carry."""
        document_shared_responses(self.spec, super()._register_responses)

    def _init_spec(self, *args, **kwargs):
        super()._init_spec(*args, **kwargs)
        # flask-smorest always declares its pagination schema; no route pages its way, so drop it.
        self.spec.components.schemas.pop("PaginationMetadata", None)


def create_app(config: dict | None = None, *, defer_refusals: bool = False) -> Flask:
    """Build the app from the environment, then `config` (tests pass app.config keys here, unchecked).

    A bad value in the environment raises ConfigurationError naming every bad variable, and so do
    settings production must not serve with (config.start_refusals: no JWT secret, the test
    gateway). With `defer_refusals` (wsgi.py, for `flask` commands other than `run`) the latter
    wait for a command that serves or takes payments, so that migrations and --help run without
    the secret.
    """
    settings = Settings.from_environment(os.environ)
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"))
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(settings.app_config(app.instance_path))
    app.config.update(
        API_TITLE="Ticketing API",
        API_VERSION="1.0",
        API_SPEC_OPTIONS={"info": {"description": API_DESCRIPTION}},
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ALGORITHM="HS256",
        **docs_settings(),
    )
    app.config.update(config or {})
    if not defer_refusals:
        check_start(app.config)
    app.json = JSONProvider(app)
    app.json.sort_keys = False  # answers read in the order the contract lists their fields
    if app.config["PROXY_COUNT"]:
        # Behind N trusted proxies, the client's address is the Nth from the right in X-Forwarded-For
        # (rate limits per address depend on it); with 0, forwarded headers are ignored (spoofable).
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    _settle_secret(app)
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(seconds=app.config["ACCESS_TOKEN_TTL_SECONDS"])
    app.config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(seconds=app.config["REFRESH_TOKEN_TTL_SECONDS"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    jwt.init_app(app)
    register_token_callbacks(jwt)

    app.url_map.converters["id"] = IdConverter
    api = _Api(app)
    api.register_converter(IdConverter, id_parameter_schema)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    register_blueprints(api)
    init_web(app)
    init_api_docs(app)
    register_error_handlers(app)  # after flask-smorest's, so ours answer
    init_protection(app)
    init_observability(app)
    configure_engine(app)
    safe_session_teardown(app)
    register_commands(app)
    # Tests may hand in their own gateway and clock; production builds them from the settings.
    gateway = app.config.get("PAYMENT_GATEWAY") or make_gateway(app.config["PAYMENT_PROVIDER"], app.config)
    app.extensions["payment_gateway"] = gateway
    app.extensions["clock"] = app.config.get("CLOCK") or SystemClock()
    init_feed_watch(app)
    if not defer_refusals and not os.environ.get(WARNED_AT_START):
        warn_at_start(start_warnings(app.config, workers=settings.web_concurrency))
    return app


def _settle_secret(app: Flask) -> None:
    """Production brings JWT_SECRET_KEY; development keeps a generated one in the instance folder."""
    if app.config.get("JWT_SECRET_KEY"):
        return
    environment = app.config["APP_ENV"]
    if environment == "production":
        return  # only a `flask` command that signs no token gets this far (start_refusals)
    if environment == "testing":
        app.config["JWT_SECRET_KEY"] = secrets.token_urlsafe(48)
        return
    app.config["JWT_SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "jwt-secret")


def _instance_secret(key_file: Path) -> str:
    """Read the key file, creating it atomically first: workers starting together agree on one key."""
    if not key_file.exists():
        draft = key_file.with_name(f"{key_file.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, key_file)  # fails if another process won the race; theirs stands
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return key_file.read_text().strip()

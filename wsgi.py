"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`.

Settings come from the environment, then `.env` (the operator's own file), then `.env.development`
only when the environment says APP_ENV=development, as `make run` does (config.dotenv_paths).

Under a WSGI server and `flask run`, the app refuses what production must not serve with
(config.start_refusals). Other `flask` commands get an app that defers those refusals to the
commands that take payments, so `db upgrade`, `create-user` and `--help` need no JWT secret; each
`flask` command logs which environment it runs in.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click
from dotenv import load_dotenv
from flask.cli import NoAppException, ScriptInfo

from config import ConfigurationError, dotenv_paths, stale_development_dotenv

DOTENV = Path(__file__).resolve().with_name(".env")

# Which files is decided before any is read: a `.env` saying APP_ENV=development must not pull
# in the development file.
for _path in dotenv_paths(DOTENV, os.environ):
    load_dotenv(_path)  # the environment wins over each file, the first file over the second

from ticketing import create_app  # noqa: E402


def _flask_command() -> str | None:
    """The `flask` command importing this module ("flask" itself while it looks for one), else None."""
    context = click.get_current_context(silent=True)
    if context is None or context.find_object(ScriptInfo) is None:
        return None  # gunicorn, or any other WSGI server
    return context.info_name


_command = _flask_command()
try:
    app = create_app(defer_refusals=_command not in (None, "run"))
except ConfigurationError as error:
    if _command is not None and {"--help", "-h"} & set(sys.argv[1:]):
        raise NoAppException(str(error)) from None  # `flask` shows it, then prints its help anyway
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(1) from None

if _command is not None:
    # A log line (JSON on stderr, like the rest): the sweeper's output stays one JSON object a line.
    _log = logging.getLogger("ticketing.startup")
    _log.info("Running with APP_ENV=%s", app.config["APP_ENV"], extra={"app_env": app.config["APP_ENV"]})
    if _stale := stale_development_dotenv(DOTENV):
        _log.warning(_stale)

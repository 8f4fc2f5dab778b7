"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from __future__ import annotations

import sys
from pathlib import Path

from dotenv import load_dotenv

load_dotenv(Path(__file__).with_name(".env"))  # the project's own; the environment wins over it

from ticketing import ConfigurationError, create_app  # noqa: E402

try:
    app = create_app()
except ConfigurationError as error:
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(1) from None

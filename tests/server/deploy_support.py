"""What the deployment tests share: their own PostgreSQL database, missing tools, PostgreSQL's log."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.engine import make_url

from ..databases import POSTGRES_URL, create_postgres_database, migrate, postgres_required, selected_databases
from .proxies import UnavailableError

T = TypeVar("T")


def need(make: Callable[[], T]) -> T:
    """`make()`, or, when a tool it needs is missing: a failure in CI (CI or REQUIRE_POSTGRES set), else a skip."""
    try:
        return make()
    except UnavailableError as error:
        if postgres_required():
            pytest.fail(f"{error} (CI installs it: .ci/run)")
        pytest.skip(str(error))


def own_database(suffix: str) -> str:
    """A fresh, migrated PostgreSQL database named after the test database plus `suffix`."""
    if "postgresql" not in selected_databases():
        pytest.skip("TEST_DATABASES leaves PostgreSQL out")
    url = make_url(POSTGRES_URL)
    url = url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)
    create_postgres_database(url)
    migrate(url)
    return url


class PostgresLog:
    """The lines PostgreSQL's own log gains from now on about one database (Debian's log file, where
    it can be read; `%u@%d` in Debian's log_line_prefix names the database)."""

    def __init__(self, database_url: str):
        self.database = make_url(database_url).database
        found = sorted(glob.glob("/var/log/postgresql/postgresql-*-main.log"))
        self.path = Path(found[-1]) if found and os.access(found[-1], os.R_OK) else None
        self.start = self.path.stat().st_size if self.path else 0

    def lines(self) -> list[str]:
        if self.path is None:
            return []
        with open(self.path, "rb") as log:
            log.seek(self.start)
            text = log.read().decode(errors="replace")
        return [line for line in text.splitlines() if f"@{self.database} " in line]

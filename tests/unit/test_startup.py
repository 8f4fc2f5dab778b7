"""Start-up with bad settings: one line `error: ...`, exit status 1, no traceback, no worker started."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import SECRET_REQUIRED, TEST_PAYMENTS_REFUSED, Settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BAD = {"HOLD_TTL_SECONDS": "abc", "LOCK_TIMEOUT_MS": "0"}
EXPECTED = (
    "error: HOLD_TTL_SECONDS must be a whole number from 1 to 86400, got 'abc'; "
    "LOCK_TIMEOUT_MS must be a whole number from 1 to 60000, got '0'"
)


def environment(**values: str) -> dict[str, str]:
    """This process's environment with every setting pinned: empty (the default) unless given.

    An empty variable also keeps a developer's `.env` out (the environment wins over it). Two are
    left out instead: prometheus_client takes an empty PROMETHEUS_MULTIPROC_DIR as set, and
    gunicorn fails on an empty WEB_CONCURRENCY.
    """
    unset = ("PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "FLASK_APP")
    pinned = {name: "" for name in Settings.specs() if name not in unset}
    environ = {**os.environ, **pinned, "APP_ENV": "testing"}
    for name in unset:
        environ.pop(name, None)
    return {**environ, **values}


def run(command: list[str], **values: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=environment(**values), capture_output=True, text=True, timeout=60, check=False
    )


FLASK = [str(BIN / "flask"), "--app", "wsgi"]


def logged(stderr: str) -> list[tuple[str, str]]:
    """The level and message of each JSON log line of `stderr` (other lines left out)."""
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [(record["level"], record["message"]) for record in records]


GUNICORN = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0"]
PRODUCTION = {"APP_ENV": "production", "JWT_SECRET_KEY": "q8Jx2cV7rN0aLk5WmZ3tYb9HsD4fG6pE1uI"}


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "wsgi.py"],
        [*FLASK, "expire-holds"],
        [*FLASK, "db", "upgrade"],
        GUNICORN,
    ],
    ids=["python wsgi.py", "flask expire-holds", "flask db upgrade", "gunicorn"],
)
def test_a_bad_setting_stops_the_start_with_one_line(command):
    result = run(command, **BAD)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [EXPECTED]
    assert "Booting worker" not in result.stderr


def test_flask_help_prints_help_even_with_a_bad_setting():
    result = run([*FLASK, "--help"], **BAD)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: flask") and EXPECTED.removeprefix("error: ") in result.stderr


def test_flask_help_in_production_needs_no_secret_and_lists_the_commands():
    result = run([*FLASK, "--help"], APP_ENV="production")
    assert result.returncode == 0, result.stderr
    for command in ("create-user", "db", "expire-holds", "seed-seats"):
        assert f"  {command} " in result.stdout
    assert logged(result.stderr) == [("INFO", "Running with APP_ENV=production")]


def test_gunicorn_refuses_production_without_a_secret_before_any_worker():
    result = run(GUNICORN, APP_ENV="production", ALLOW_TEST_PAYMENTS="1")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: {SECRET_REQUIRED}"]


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "wsgi.py"], [*FLASK, "run", "--port", "0"], GUNICORN],
    ids=["create_app", "flask run", "gunicorn"],
)
def test_production_refuses_to_serve_with_the_test_gateway(command):
    result = run(command, **PRODUCTION, PAYMENT_PROVIDER="fake")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"error: {TEST_PAYMENTS_REFUSED}"
    assert "Booting worker" not in result.stderr


def test_production_migrates_and_makes_the_admin_without_a_secret_but_the_sweeper_refuses_test_payments(tmp_path):
    database = {"APP_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}"}
    migrated = run([*FLASK, "db", "upgrade"], **database)
    assert migrated.returncode == 0, migrated.stderr
    admin = run(
        [*FLASK, "create-user", "--email", "ops@example.com", "--password", "long enough", "--admin"], **database
    )
    assert admin.returncode == 0, admin.stderr
    sweeper = run([*FLASK, "expire-holds"], **database)
    assert sweeper.returncode == 1
    assert logged(sweeper.stderr) == [("INFO", "Running with APP_ENV=production")]
    assert sweeper.stderr.splitlines()[-1] == f"error: {TEST_PAYMENTS_REFUSED}"
    allowed = run([*FLASK, "expire-holds"], **database, ALLOW_TEST_PAYMENTS="1")
    assert allowed.returncode == 0, allowed.stderr
    warned = [json.loads(line)["message"] for line in allowed.stderr.splitlines() if line.startswith("{")]
    assert any("ALLOW_TEST_PAYMENTS=1" in message for message in warned)


# Runs gunicorn.conf.py and loads its worker class as the master does, then prints what gunicorn
# would take from it, and which modules of the app (or config.py itself, which workers must import
# afresh) it left loaded.


def test_gunicorn_refuses_production_with_limits_counted_per_worker_before_any_worker():
    result = run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "--workers", "2"],
        APP_ENV="production",
        JWT_SECRET_KEY="k" * 40,
        ALLOW_TEST_PAYMENTS="1",
    )
    assert result.returncode == 1
    # Checked once gunicorn knows the final number of workers (after its own "Starting gunicorn").
    *_, line = result.stderr.splitlines()
    assert line.startswith("error: RATE_LIMIT_STORAGE_URL=memory://") and "ALLOW_PER_PROCESS_LIMITS=1" in line
    assert "Booting worker" not in result.stderr


# Runs gunicorn.conf.py as the master does, then prints what gunicorn would take from it, and which
# modules of the app (or config.py itself, which workers must import afresh) it left loaded.
_SHOW_GUNICORN_SETTINGS = """
import json, runpy, sys
found = runpy.run_path("gunicorn.conf.py")
from gunicorn.util import load_class
load_class(found["worker_class"])  # the master loads the worker class too
names = ("bind", "workers", "worker_class", "threads", "keepalive", "max_requests", "max_requests_jitter",
         "loglevel", "forwarded_allow_ips")
app_code = ("config", "wsgi", "ticketing", "flask", "sqlalchemy")
loaded = sorted(name for name in sys.modules if name.split(".")[0] in app_code)
print(json.dumps({name: found[name] for name in names} | {"imported": loaded}))
"""


def test_gunicorn_conf_takes_its_values_from_the_settings_and_imports_no_app_code():
    result = run(
        [sys.executable, "-c", _SHOW_GUNICORN_SETTINGS],
        GUNICORN_BIND="0.0.0.0:9000,unix:/tmp/ticketing.sock",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="16",
        GUNICORN_KEEPALIVE="75",
        GUNICORN_MAX_REQUESTS="500",
        LOG_LEVEL="warning",
        FORWARDED_ALLOW_IPS="10.0.0.0/8",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "bind": ["0.0.0.0:9000", "unix:/tmp/ticketing.sock"],
        "workers": 3,
        "worker_class": "holding_worker.HoldingThreadWorker",
        "threads": 16,
        "keepalive": 75,
        "max_requests": 500,
        "max_requests_jitter": 50,
        "loglevel": "warning",
        "forwarded_allow_ips": "10.0.0.0/8",
        "imported": [],
    }


def test_gunicorn_conf_defaults_are_the_settings_defaults():
    result = run([sys.executable, "-c", _SHOW_GUNICORN_SETTINGS])
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    defaults = Settings()
    assert (shown["bind"], shown["workers"], shown["threads"]) == (
        ["127.0.0.1:8000"],
        defaults.web_concurrency,
        defaults.gunicorn_threads,
    )


# --- settings files: `make run` writes .env.development, which production commands never read ----


def unpinned(**values: str) -> dict[str, str]:
    """This process's environment without any setting (so that the settings files count), plus `values`."""
    environ = {name: value for name, value in os.environ.items() if name not in Settings.specs()}
    environ.pop("FLASK_APP", None)
    environ.pop("GUNICORN_CMD_ARGS", None)
    return {**environ, **values}


@pytest.fixture
def project(tmp_path) -> Path:
    """A folder with the entry points of this one (the app's code still imported from here) and two files."""
    for name in ("config.py", "gunicorn.conf.py", "wsgi.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".env.development").write_text("PORT=9999\nHOLD_TTL_SECONDS=7\n")
    return tmp_path


def test_the_development_file_reaches_make_runs_commands_only(project):
    show = "import runpy, wsgi; print(runpy.run_path('gunicorn.conf.py')['bind'], wsgi.app.config['HOLD_TTL_SECONDS'])"
    production = {**PRODUCTION, "ALLOW_TEST_PAYMENTS": "1", "PYTHONPATH": str(ROOT)}
    for environ, expected in [
        (unpinned(**production), "['127.0.0.1:8000'] 60"),
        (unpinned(**{**production, "APP_ENV": ""}), "['127.0.0.1:8000'] 60"),  # unset is production
        (unpinned(APP_ENV="development", PYTHONPATH=str(ROOT)), "['127.0.0.1:9999'] 7"),
    ]:
        result = subprocess.run(
            [sys.executable, "-c", show], cwd=project, env=environ, capture_output=True, text=True, timeout=60
        )
        assert result.stdout.strip().splitlines()[-1:] == [expected], result.stderr


def test_every_flask_command_says_its_environment_and_names_a_development_env_file(project):
    (project / ".env").write_text("APP_ENV=development\n")  # what `make run` used to leave behind
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "--help"],
        cwd=project,
        env=unpinned(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert logged(result.stderr) == [
        ("INFO", "Running with APP_ENV=development"),
        (
            "WARNING",
            ".env sets APP_ENV=development: a command without APP_ENV in its environment runs as development. "
            "make run keeps its settings in .env.development now; remove APP_ENV from .env.",
        ),
    ]


def test_make_run_writes_and_reads_its_own_development_file(tmp_path):
    """`make run` in a copy of the project, with stand-ins for flask and gunicorn that note what they got."""
    for name in ("Makefile", ".env.example", "requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("python", "flask", "gunicorn"):
        stand_in = bin_dir / tool
        stand_in.write_text(f'#!/bin/sh\necho "{tool} $* APP_ENV=$APP_ENV" >> "{tmp_path}/ran"\n')
        stand_in.chmod(0o755)
    (tmp_path / "venv" / ".runtime-installed").touch()  # newer than requirements.txt: nothing to install
    result = subprocess.run(
        ["make", "run", "VENV=venv"],
        cwd=tmp_path,
        env={**os.environ, "APP_ENV": "production"},  # the caller's own APP_ENV does not leak into the demo
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ran").read_text().splitlines() == [
        "flask --app wsgi db upgrade APP_ENV=development",
        "flask --app wsgi seed-demo APP_ENV=development",
        "gunicorn -c gunicorn.conf.py APP_ENV=development",
    ]
    assert (tmp_path / ".env.development").read_text() == (ROOT / ".env.example").read_text()
    assert not (tmp_path / ".env").exists()  # left to the operator: production commands read it

"""Start-up with bad settings: one line `error: ...`, exit status 1, no traceback, no worker started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import SECRET_REQUIRED, Settings

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


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "wsgi.py"],
        [str(BIN / "flask"), "--app", "wsgi", "--help"],
        [str(BIN / "flask"), "--app", "wsgi", "expire-holds"],
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0"],
    ],
    ids=["python wsgi.py", "flask --help", "flask expire-holds", "gunicorn"],
)
def test_a_bad_setting_stops_the_start_with_one_line(command):
    result = run(command, **BAD)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [EXPECTED]
    assert "Booting worker" not in result.stderr


def test_gunicorn_refuses_production_without_a_secret_before_any_worker():
    result = run([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0"], APP_ENV="production")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: {SECRET_REQUIRED}"]


def test_gunicorn_refuses_production_with_limits_counted_per_worker_before_any_worker():
    result = run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "--workers", "2"],
        APP_ENV="production",
        JWT_SECRET_KEY="k" * 40,
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
        "worker_class": "gthread",
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

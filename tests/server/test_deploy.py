"""docs/deploy/ followed literally on PostgreSQL: its settings file, its commands, its two units.

The one-off commands are the lines of docs/deploy/README.md that start with `ticketing ` (run
through the `ticketing()` shell function defined there, without `sudo`); the services run their
units' ExecStart from their WorkingDirectory with the settings file and Environment= lines.
Host paths (/srv/ticketing, /etc/ticketing, /run/ticketing) become this checkout and temp folders.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from sqlalchemy.engine import make_url

from ..databases import POSTGRES_URL, create_postgres_database
from ..gunicorn_server import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
GUIDE = (DEPLOY / "README.md").read_text()
# What the operator fills in (each CHANGE_ME of ticketing.env) and what differs on this host.
CHOSEN = ("JWT_SECRET_KEY", "DATABASE_URL", "STRIPE_API_KEY", "METRICS_TOKEN")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(DEPLOY / name)
    return parser


def on_this_host(text: str, settings_file: Path, run_dir: Path) -> str:
    return (
        text.replace("/etc/ticketing/ticketing.env", str(settings_file))
        .replace("/srv/ticketing", str(ROOT))
        .replace("/run/ticketing", str(run_dir))
    )


def guide_commands() -> list[str]:
    """The one-off commands of the guide, in order: every code line starting with `ticketing `."""
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE, flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.startswith("ticketing ")]


def shell_function_script() -> str:
    """The `sh -c` script of the guide's `ticketing()` function."""
    match = re.search(r"^ticketing\(\) \{ sudo -u ticketing sh -c '([^']+)' ticketing \"\$@\"; \}$", GUIDE, re.M)
    assert match, "docs/deploy/README.md defines ticketing() as the test expects"
    return match.group(1)


def test_the_guide_and_units_name_the_same_paths():
    api, sweeper = unit("ticketing.service")["Service"], unit("ticketing-sweeper.service")["Service"]
    for service in (api, sweeper):
        assert service["WorkingDirectory"] == "/srv/ticketing"
        assert service["EnvironmentFile"] == "/etc/ticketing/ticketing.env"
        assert service["User"] == "ticketing" and service["KillSignal"] == "SIGTERM"
    assert api["ExecStart"] == "/srv/ticketing/.venv/bin/gunicorn -c gunicorn.conf.py"
    assert api["Type"] == "notify" and api["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    assert api["Environment"] == "PROMETHEUS_MULTIPROC_DIR=/run/ticketing/metrics"
    assert api["RuntimeDirectory"] == "ticketing"
    assert sweeper["ExecStart"] == "/srv/ticketing/.venv/bin/flask --app wsgi expire-holds --loop"
    assert sweeper["Restart"] == "always" and "PROMETHEUS_MULTIPROC_DIR" not in sweeper.get("Environment", "")
    code = "\n".join(re.findall(r"```sh\n(.*?)```", GUIDE, flags=re.DOTALL))
    assert "seed-demo" not in code and "make " not in code  # production never runs the demo
    assert [shlex.split(line)[4] for line in guide_commands()] == ["db", "create-user", "seed-seats", "db"]
    assert "--admin" in guide_commands()[1] and "--password" not in guide_commands()[1]  # asked, hidden
    assert "(nginx.conf)" in GUIDE  # the proxy's file, beside the units


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed; the units are checked as text above")
    settings_file = tmp_path / "ticketing.env"
    settings_file.write_text("APP_ENV=production\n")
    for name in ("ticketing.service", "ticketing-sweeper.service"):
        (tmp_path / name).write_text(on_this_host((DEPLOY / name).read_text(), settings_file, tmp_path))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "ticketing.service"), str(tmp_path / "ticketing-sweeper.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


@pytest.fixture
def database() -> str:
    """A fresh PostgreSQL database of its own, dropped afterwards."""
    url = make_url(POSTGRES_URL)
    url = url.set(database=f"{url.database}_deploy").render_as_string(hide_password=False)
    create_postgres_database(url)
    yield url
    admin = make_url(url).set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def settings_file_for(database: str, path: Path, port: int) -> dict[str, str]:
    """docs/deploy/ticketing.env with its CHANGE_ME filled in, written to `path`; returns the values."""
    template = (DEPLOY / "ticketing.env").read_text()
    assert sorted(re.findall(r"^([A-Z_]+)=.*CHANGE_ME", template, re.M)) == sorted(CHOSEN)
    chosen = {
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),  # what the guide's python3 -c line prints
        "DATABASE_URL": database,
        "STRIPE_API_KEY": f"sk_live_{uuid.uuid4().hex}",  # never called: nothing is paid here
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        "GUNICORN_BIND": f"127.0.0.1:{port}",  # a free port rather than 8000 on a shared machine
    }
    lines = []
    for line in template.splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={chosen[name]}" if name in chosen and not line.startswith("#") else line)
    path.write_text("\n".join(lines) + "\n")
    values = dict(re.findall(r"^([A-Z_]+)=(.*)$", path.read_text(), re.M))
    assert values["APP_ENV"] == "production" and values["PAYMENT_PROVIDER"] == "stripe"
    return values


class Host:
    """This checkout as the guide's host: its shell function, its settings file, its runtime folder."""

    def __init__(self, settings_file: Path, run_dir: Path, home: Path):
        self.settings_file, self.run_dir = settings_file, run_dir
        # A bare environment, as systemd and sudo give: nothing of this test process leaks in.
        self.environ = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}

    def command(self, line: str, stdin: str = "") -> subprocess.CompletedProcess:
        """A `ticketing ...` line of the guide, run through its shell function."""
        script = on_this_host(shell_function_script(), self.settings_file, self.run_dir)
        args = shlex.split(line)
        assert args[0] == "ticketing"
        return subprocess.run(
            ["sh", "-c", script, "ticketing", *args[1:]],
            input=stdin,
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,  # no terminal: the password prompt reads standard input
            check=False,
        )

    def start(self, unit_name: str, log: Path) -> subprocess.Popen:
        """A unit's ExecStart, from its WorkingDirectory, with its EnvironmentFile and Environment."""
        service = unit(unit_name)["Service"]
        environ = dict(self.environ)
        if "Environment" in service:
            name, value = on_this_host(service["Environment"], self.settings_file, self.run_dir).split("=", 1)
            environ[name] = value
        load = 'set -a && . "$0" && set +a && exec "$@"'  # EnvironmentFile=, for a file of NAME=value lines
        exec_start = shlex.split(on_this_host(service["ExecStart"], self.settings_file, self.run_dir))
        return subprocess.Popen(
            ["sh", "-c", load, on_this_host(service["EnvironmentFile"], self.settings_file, self.run_dir), *exec_start],
            cwd=on_this_host(service["WorkingDirectory"], self.settings_file, self.run_dir),
            env=environ,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, as systemd stops a unit (KillSignal=SIGTERM); the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def wait_for(check, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout} s:\n{log.read_text(errors='replace')[-4000:]}")


def test_the_documented_production_steps_work_end_to_end(database, tmp_path):
    port = free_port()
    settings = settings_file_for(database, tmp_path / "ticketing.env", port)
    try:
        redis.Redis.from_url(settings["RATE_LIMIT_STORAGE_URL"], socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") or os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"Redis is not reachable: {error}")
        pytest.skip(f"Redis is not reachable: {error}")
    (tmp_path / "run").mkdir()  # RuntimeDirectory=ticketing
    host = Host(tmp_path / "ticketing.env", tmp_path / "run", tmp_path)
    password = f"admin {uuid.uuid4().hex[:12]}"

    # Steps 3 and 5: migrations, the first admin (password asked twice), an event.
    event_id = None
    for line in guide_commands():
        stdin = f"{password}\n{password}\n" if " create-user " in line else ""
        result = host.command(line, stdin)
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        assert "Running with APP_ENV=production" in result.stderr
        if " seed-seats " in line:
            event_id = int(result.stdout.split()[-1])
    assert event_id is not None

    # Step 6: the two units.
    api_log, sweeper_log = tmp_path / "ticketing.log", tmp_path / "sweeper.log"
    api = host.start("ticketing.service", api_log)
    sweeper = host.start("ticketing-sweeper.service", sweeper_log)
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert api.poll() is None, api_log.read_text(errors="replace")
            try:
                return requests.get(f"{base}/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(ready, "GET /readyz answering 200", api_log)
        # Behind nginx (PROXY_COUNT=1): each visitor's address comes in X-Forwarded-For.
        visitor = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250 + 1}"}
        email = f"buyer-{uuid.uuid4().hex}@example.com"
        body = {"email": email, "password": "correct horse battery"}
        assert requests.post(f"{base}/auth/register", json=body, headers=visitor, timeout=10).status_code == 201
        wrong = requests.post(f"{base}/auth/login", json={**body, "password": "not it"}, headers=visitor, timeout=10)
        assert wrong.status_code == 401
        login = requests.post(f"{base}/auth/login", json=body, headers=visitor, timeout=10)
        assert login.status_code == 200
        bearer = {**visitor, "Authorization": f"Bearer {login.json()['access_token']}"}
        seats = requests.get(f"{base}/events/{event_id}/seats", timeout=10).json()["seats"]
        assert len(seats) == 200 and seats[0]["price"] == "25.00"
        locked = requests.post(f"{base}/seats/{seats[0]['id']}/lock", headers=bearer, timeout=10)
        assert locked.status_code == 200, locked.text
        admin = requests.post(
            f"{base}/auth/login", json={"email": "admin@example.com", "password": password}, timeout=10
        ).json()
        me = requests.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {admin['access_token']}"}, timeout=10)
        assert me.json()["user"]["is_admin"] is True

        # The failed login was counted in Redis (step 4), under the account's key.
        keys = redis.Redis.from_url(settings["RATE_LIMIT_STORAGE_URL"]).keys("*login*")
        digest = __import__("hashlib").sha256(email.encode()).hexdigest()
        assert any(digest in key.decode() for key in keys)

        wait_for(lambda: "sweeper pass" in sweeper_log.read_text(errors="replace"), "a sweeper pass", sweeper_log)
    finally:
        api_status, sweeper_status = stop(api), stop(sweeper)
    assert (api_status, sweeper_status) == (0, 0)

    # The settings file is a clean production: the master says where it runs, and warns of nothing.
    log = api_log.read_text(errors="replace")
    assert "Running with APP_ENV=production" in log
    assert "[WARNING]" not in log and '"level": "WARNING"' not in log, log
    passes = [json.loads(line) for line in sweeper_log.read_text().splitlines() if '"sweeper pass"' in line]
    assert passes and passes[0]["released_locks"] == 0


def test_unsafe_production_settings_are_warned_about_once_by_the_master_not_by_each_worker(tmp_path):
    """Test payments allowed, a short secret, memory:// limits with three workers, SQLite, no metrics token:
    five warnings."""
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "APP_ENV": "production",
        "ALLOW_TEST_PAYMENTS": "1",
        "JWT_SECRET_KEY": "too-short-a-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unsafe.sqlite3'}",
        "WEB_CONCURRENCY": "3",
        "ALLOW_PER_PROCESS_LIMITS": "1",  # else production refuses memory:// counters in three workers
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=environ,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def all_workers_serving() -> bool:
            assert server.poll() is None, log_path.read_text(errors="replace")
            try:
                healthy = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
            return healthy and log_path.read_text().count("Booting worker") == 3

        wait_for(all_workers_serving, "three workers serving", log_path)
        # Each worker has imported the app by now (no preload): a worker that warned would have.
        for _ in range(12):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        assert stop(server) == 0
    log = log_path.read_text(errors="replace")
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    expected = (
        "ALLOW_TEST_PAYMENTS=1",
        "JWT_SECRET_KEY is shorter",
        "memory:// with 3 worker",
        "SQLite",
        "METRICS_TOKEN",
    )
    assert len(warnings) == len(expected), log
    for text in expected:
        assert sum(text in line for line in warnings) == 1, text

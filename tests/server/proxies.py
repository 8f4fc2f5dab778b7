"""PgBouncer and HAProxy as docs/deploy/ configures them, on this machine's addresses.

The configurations are the documented files with only addresses, ports and paths replaced (each
replaced line must be in the file), so the docs cannot drift from what the tests and the
benchmark run. Used by tests/server/cluster.py and tests/server/test_pgbouncer.py.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT_ROOT / "docs" / "deploy"


class UnavailableError(RuntimeError):
    """A tool the cluster needs is missing (the caller decides: skip, or fail in CI)."""


def tool(name: str) -> str:
    """The path of a system tool (PATH, then /usr/sbin and /sbin)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        raise UnavailableError(f"{name} is not installed (Debian: apt-get install {name})")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def wait_for_port(host: str, port: int, process: subprocess.Popen, log: Path, timeout: float = 15) -> None:
    """Until something accepts on host:port; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{read_tail(log)}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout} s:\n{read_tail(log)}")


def read_tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the documented configurations, with this machine's addresses -----------------------------


def pgbouncer_ini(*, listen_addr: str, listen_port: int, database: str, auth_file: Path) -> str:
    """docs/deploy/pgbouncer.ini with the site lines replaced: addresses, the database, authentication, files."""
    url = make_url(database)
    server = f"host={url.host or '127.0.0.1'} port={url.port or 5432} dbname={url.database}"
    lines = {
        ("databases", "ticketing"): server,
        ("pgbouncer", "listen_addr"): listen_addr,
        ("pgbouncer", "listen_port"): str(listen_port),
        ("pgbouncer", "unix_socket_dir"): "",
        ("pgbouncer", "auth_type"): "trust",
        ("pgbouncer", "auth_file"): str(auth_file),
        ("pgbouncer", "logfile"): "",  # standard error, which the caller keeps in a file
        ("pgbouncer", "pidfile"): "",
    }
    return _replace_ini_values((DEPLOY / "pgbouncer.ini").read_text(), lines)


def _replace_ini_values(text: str, values: dict[tuple[str, str], str]) -> str:
    section, seen, out = None, set(), []
    for line in text.splitlines():
        header = re.fullmatch(r"\[(\w+)\]\s*", line)
        if header:
            section = header.group(1)
        key = re.match(r"(\w+)\s*=", line)
        if key and (section, key.group(1)) in values:
            line = f"{key.group(1)} = {values[(section, key.group(1))]}"
            seen.add((section, key.group(1)))
        out.append(line)
    missing = set(values) - seen
    if missing:
        raise AssertionError(f"docs/deploy/pgbouncer.ini lacks {sorted(missing)}")
    return "\n".join(out) + "\n"


def haproxy_cfg(*, bind: str, servers: list[str]) -> str:
    """docs/deploy/haproxy.cfg with this machine's `bind` and `server` addresses, logging to stdout."""
    out, documented = [], 0
    for line in (DEPLOY / "haproxy.cfg").read_text().splitlines():
        stripped = line.strip()
        if re.match(r"(user|group|chroot)\s", stripped):
            continue  # the test runs it as whoever runs the test
        if re.match(r"log\s+/", stripped):
            line = "    log stdout format raw local0"
        elif stripped.startswith("bind "):
            line = f"    bind {bind}"
        elif stripped.startswith("server "):
            # "server app1 10.0.0.11:8000 check ..." -> this machine's hosts, same options
            name, _address, *options = stripped.split()[1:]
            documented += 1
            if documented > len(servers):
                continue
            line = f"    server {name} {servers[documented - 1]} {' '.join(options)}"
        out.append(line)
    if documented < len(servers):
        raise AssertionError(f"docs/deploy/haproxy.cfg names {documented} servers, {len(servers)} wanted")
    return "\n".join(out) + "\n"


# --- the processes ----------------------------------------------------------------------------


class PgBouncer:
    """PgBouncer on `listen_addr` (a free port) in front of the database of `database_url`."""

    def __init__(self, directory: Path, database_url: str, listen_addr: str = "127.0.0.1"):
        binary = tool("pgbouncer")
        self.host, self.port = listen_addr, free_port(listen_addr)
        user = make_url(database_url).username or "postgres"
        auth_file = directory / "userlist.txt"
        auth_file.write_text(f'"{user}" ""\n')
        config = directory / "pgbouncer.ini"
        config.write_text(
            pgbouncer_ini(
                listen_addr=listen_addr,
                listen_port=self.port,
                database=database_url,
                auth_file=auth_file,
            )
        )
        self.log_path = directory / "pgbouncer.log"
        # PgBouncer will not run as root: as root, it reads its files, then becomes `postgres`.
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([binary, *as_user, str(config)], stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.host, self.port, self.process, self.log_path)

    def url(self, database_url: str) -> str:
        """`database_url` through this PgBouncer (the documented alias `ticketing`)."""
        url = make_url(database_url).set(host=self.host, port=self.port, database="ticketing")
        return url.render_as_string(hide_password=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)


class HAProxy:
    """HAProxy on 127.0.0.1 (a free port) in front of `servers` ("address:port")."""

    def __init__(self, directory: Path, servers: list[str]):
        binary = tool("haproxy")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = directory / "haproxy.cfg"
        config.write_text(haproxy_cfg(bind=f"127.0.0.1:{self.port}", servers=servers))
        self.log_path = directory / "haproxy.log"
        with open(self.log_path, "wb") as log:
            # -db: stay in the foreground (stopped with SIGTERM below)
            self.process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
        wait_for_port("127.0.0.1", self.port, self.process, self.log_path)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)

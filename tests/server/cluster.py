"""Several app hosts on this machine: PgBouncer, gunicorn per host, HAProxy in front.

Hosts are network namespaces joined by a bridge that this module makes (a private /24 on this
machine only: no route out, no NAT), each running `gunicorn -c gunicorn.conf.py` as production
does. PostgreSQL listens on 127.0.0.1 only, so the hosts reach it through PgBouncer on the
bridge's address, which is also the production shape (docs/deploy/pgbouncer.ini). HAProxy on
127.0.0.1 spreads requests over the hosts (docs/deploy/haproxy.cfg). Both configurations are the
documented files with only addresses, ports and paths replaced, so the docs cannot drift from
what the tests prove. Where namespaces cannot be made (not root), the hosts are loopback
addresses 127.0.0.2, 127.0.0.3, ... instead.

Used by tests/server/test_multihost.py, tests/server/test_pgbouncer.py and bench/hosts.py.
Everything made (namespaces, links, processes, the temporary directory) is removed by `close()`,
which `cluster()` calls also when the block fails.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import requests
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT_ROOT / "docs" / "deploy"
GUNICORN = Path(sys.executable).with_name("gunicorn")
_PREFIX = "tkt"  # every namespace and link this module makes starts with it, then the pid


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


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie (a zombie has let go of its sockets)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


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


def pgbouncer_ini(*, listen_addr: str, listen_port: int, database: str, auth_file: Path, **overrides: str | int) -> str:
    """docs/deploy/pgbouncer.ini with the site lines replaced (and `overrides`, e.g. pool sizes)."""
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
        **{("pgbouncer", key): str(value) for key, value in overrides.items()},
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


# --- processes ----------------------------------------------------------------------------------


class PgBouncer:
    """PgBouncer on `listen_addr` (a free port) in front of the database of `database_url`."""

    def __init__(self, directory: Path, database_url: str, listen_addr: str = "127.0.0.1", **overrides):
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
                **overrides,
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


class Host:
    """One app host: `gunicorn -c gunicorn.conf.py` inside its namespace (or on its loopback address)."""

    def __init__(self, name: str, address: str, port: int, run_in: list[str], log_path: Path, environment: dict):
        self.name, self.address, self.port = name, address, port
        self.url = f"http://{address}:{port}"
        self.log_path = log_path
        environment = {**environment, "GUNICORN_BIND": f"{address}:{port}"}
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*run_in, str(GUNICORN), "-c", "gunicorn.conf.py"],
                cwd=PROJECT_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}'s gunicorn exited:\n{read_tail(self.log_path)}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready:\n{read_tail(self.log_path)}")

    def pids(self) -> list[int]:
        """The master and its workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [self.process.pid, *(int(pid) for pid in children.read_text().split())]
        except OSError:
            return [self.process.pid]

    def kill(self) -> list[int]:
        """`kill -9` the master and every worker at once, as a host that dies would, and return their
        pids once the host refuses connections."""
        pids = self.pids()
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        # Gone once nothing accepts connections any more: the kernel closes the listening socket
        # after the last process holding it (the workers too) has exited, a little later under load.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (any(_running(pid) for pid in pids) or self._accepts()):
            time.sleep(0.001)
        return pids

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((self.address, self.port), timeout=1):
                return True
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process, timeout=25)


# --- the network --------------------------------------------------------------------------------


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([tool("ip"), *args], capture_output=True, text=True, check=check)


def _remove_leftovers() -> None:
    """Namespaces and links of earlier runs whose process is gone (a run killed before its clean-up)."""
    names = _ip("netns", "list", check=False).stdout.split()
    names += re.findall(r"^\d+: ([^:@\s]+)", _ip("-o", "link", "show", check=False).stdout, re.MULTILINE)
    for name in names:
        match = re.fullmatch(rf"{_PREFIX}(\d+)[a-z]\d*", name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            if name in _ip("netns", "list", check=False).stdout.split():
                _ip("netns", "del", name, check=False)
            else:
                _ip("link", "del", name, check=False)


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.213.0.0/16 that no address or route of this machine touches."""
    used = _ip("-4", "route", "show", "table", "all", check=False).stdout + _ip("-4", "-o", "addr").stdout
    for offset in range(256):
        third = (os.getpid() + offset) % 200 + 20
        subnet = ipaddress.ip_network(f"10.213.{third}.0/24")
        if f"10.213.{third}." not in used:
            return subnet
    raise UnavailableError("no free /24 in 10.213.0.0/16")


class Namespaces:
    """`count` network namespaces on one bridge: the bridge has .1 (the hosts' gateway to PgBouncer
    and HAProxy's side), host i has .(10 + i). No default route anywhere, no NAT, no forwarding."""

    kind = "network namespaces"

    def __init__(self, count: int):
        if os.geteuid() != 0:
            raise UnavailableError("network namespaces need root")
        _remove_leftovers()
        tag = f"{_PREFIX}{os.getpid()}"
        self.bridge, self.namespaces, self._links = f"{tag}b", [], []
        subnet = _free_subnet()
        self.gateway = str(subnet.network_address + 1)
        self.addresses = [str(subnet.network_address + 10 + index) for index in range(1, count + 1)]
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            self._links.append(self.bridge)
            _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for index, address in enumerate(self.addresses, start=1):
                namespace, outside, inside = f"{tag}h{index}", f"{tag}v{index}", f"{tag}p{index}"
                _ip("netns", "add", namespace)
                self.namespaces.append(namespace)
                _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
                self._links.append(outside)
                _ip("link", "set", outside, "master", self.bridge)
                _ip("link", "set", outside, "up")
                _ip("link", "set", inside, "netns", namespace)
                _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", inside)
                _ip("-n", namespace, "link", "set", inside, "up")
                _ip("-n", namespace, "link", "set", "lo", "up")
        except subprocess.CalledProcessError as error:
            self.close()
            raise UnavailableError(f"cannot make network namespaces: {error.stderr.strip()}") from error

    def run_in(self, index: int) -> list[str]:
        """The command prefix that runs a program on host `index` (0-based)."""
        return [tool("ip"), "netns", "exec", self.namespaces[index]]

    def port(self) -> int:
        return 8000  # every host has its own network: the same port everywhere, as on real hosts

    def close(self) -> None:
        for namespace in self.namespaces:
            # Anything still running in it (a worker orphaned by a test's kill) goes first.
            for pid in _ip("netns", "pids", namespace, check=False).stdout.split():
                with suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            _ip("netns", "del", namespace, check=False)
        for link in reversed(self._links):
            if _ip("link", "show", link, check=False).returncode == 0:
                _ip("link", "del", link, check=False)
        self.namespaces, self._links = [], []


class Loopback:
    """Where namespaces are refused: host i listens on 127.0.0.(1 + i), PgBouncer on 127.0.0.1."""

    kind = "loopback addresses"

    def __init__(self, count: int):
        self.gateway = "127.0.0.1"
        self.addresses = [f"127.0.0.{1 + index}" for index in range(1, count + 1)]
        self._port = free_port()

    def run_in(self, _index: int) -> list[str]:
        return []

    def port(self) -> int:
        return self._port

    def close(self) -> None:
        pass


# --- the whole --------------------------------------------------------------------------------


def host_environment(database_url: str, secret: str, gateway: str, **settings: str | int) -> dict:
    """A production host's settings: every one the tests depend on pinned (a developer's .env
    fills only what is unset). Holds per address are out of the way: every client here is one."""
    environment = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "DATABASE_POOLER": "pgbouncer",
        "JWT_SECRET_KEY": secret,
        "HOLD_TTL_SECONDS": "60",
        "CHECKOUT_TTL_SECONDS": "600",
        "MAX_SEATS_PER_USER": "10",
        "MAX_HOLDS_PER_ADDRESS": "1000000",
        "LOCK_TIMEOUT_MS": "3000",
        "PAYMENT_PROVIDER": "fake",
        "ALLOW_TEST_PAYMENTS": "1",
        "RATE_LIMIT_STORAGE_URL": "memory://",
        "ALLOW_PER_PROCESS_LIMITS": "1",
        "PROXY_COUNT": "1",
        "FORWARDED_ALLOW_IPS": gateway,
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "8",
        # Longer than HAProxy's keep-alive to the hosts, so a reused connection is never closed under it.
        "GUNICORN_KEEPALIVE": "75",
        "LOG_LEVEL": "INFO",
        **{name: str(value) for name, value in settings.items()},
    }
    for name in ("GUNICORN_CMD_ARGS", "PROMETHEUS_MULTIPROC_DIR", "GUNICORN_BIND", "PORT"):
        environment.pop(name, None)
    return environment


class Cluster:
    """PgBouncer, `count` hosts and HAProxy; `close()` removes everything."""

    def __init__(self, database_url: str, secret: str, count: int = 3, *, pgbouncer: dict | None = None, **settings):
        self.directory = Path(tempfile.mkdtemp(prefix="ticketing-hosts-"))
        self.hosts: list[Host] = []
        self.pgbouncer = self.haproxy = None
        self._stack = ExitStack()
        try:
            self.network = self._network(count)
            self._stack.callback(self.network.close)
            self.pgbouncer = PgBouncer(self.directory, database_url, self.network.gateway, **(pgbouncer or {}))
            self._stack.callback(self.pgbouncer.stop)
            environment = host_environment(self.pgbouncer.url(database_url), secret, self.network.gateway, **settings)
            for index, address in enumerate(self.network.addresses):
                host = Host(
                    f"app{index + 1}",
                    address,
                    self.network.port(),
                    self.network.run_in(index),
                    self.directory / f"app{index + 1}.log",
                    environment,
                )
                self.hosts.append(host)
                self._stack.callback(host.stop)
            for host in self.hosts:
                host.wait_ready()
            self.haproxy = HAProxy(self.directory, [f"{host.address}:{host.port}" for host in self.hosts])
            self._stack.callback(self.haproxy.stop)
            self.url = self.haproxy.url
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _network(count: int) -> Namespaces | Loopback:
        try:
            return Namespaces(count)
        except UnavailableError:
            return Loopback(count)

    def logs(self, size: int = 3000) -> str:
        """The tail of every log, for a failing assertion's message."""
        parts = [(host.name, host.log_path) for host in self.hosts]
        if self.pgbouncer:
            parts.append(("pgbouncer", self.pgbouncer.log_path))
        if self.haproxy:
            parts.append(("haproxy", self.haproxy.log_path))
        return "\n".join(f"--- {name}\n{read_tail(path, size)}" for name, path in parts)

    def close(self) -> None:
        try:
            self._stack.close()  # HAProxy, the hosts, PgBouncer, then the network
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def cluster(database_url: str, secret: str, count: int = 3, **settings) -> Iterator[Cluster]:
    """A running cluster for the block, removed after it whatever happens."""
    running = Cluster(database_url, secret, count, **settings)
    try:
        yield running
    finally:
        running.close()

"""Several app hosts on this machine: PgBouncer, `gunicorn -c gunicorn.conf.py` per host, HAProxy in front.

Hosts are network namespaces joined by a bridge that this module makes (a private /24 on this
machine only: no route out, no NAT). PostgreSQL listens on 127.0.0.1 only, so the hosts reach it
through PgBouncer on the bridge's address, which is also the production shape; HAProxy on
127.0.0.1 spreads requests over the hosts (both from docs/deploy/, see proxies.py). Where
namespaces cannot be made (not root), the hosts are loopback addresses 127.0.0.2, 127.0.0.3, ...
instead.

Used by tests/server/test_multihost.py and bench/hosts.py. `Cluster.close()` removes everything
it made (processes, namespaces, links, the temporary directory), also after a failed start.
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
from contextlib import ExitStack, suppress
from pathlib import Path

import requests

from .proxies import PROJECT_ROOT, HAProxy, PgBouncer, UnavailableError, free_port, read_tail, stop, tool

__all__ = ["Cluster", "UnavailableError"]

GUNICORN = Path(sys.executable).with_name("gunicorn")
_PREFIX = "tkt"  # every namespace and link this module makes starts with it, then the pid


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie (a zombie has let go of its sockets)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


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

    def wait_ready(self, timeout: float = 120) -> None:
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
        "LOG_LEVEL": "INFO",
        **{name: str(value) for name, value in settings.items()},
    }
    for name in ("GUNICORN_CMD_ARGS", "PROMETHEUS_MULTIPROC_DIR", "GUNICORN_BIND", "PORT"):
        environment.pop(name, None)
    return environment


class Cluster:
    """PgBouncer, `count` hosts and HAProxy; `close()` removes everything."""

    def __init__(self, database_url: str, secret: str, count: int = 3, **settings):
        """Start everything; `settings` override the hosts' environment (host_environment)."""
        self.directory = Path(tempfile.mkdtemp(prefix="ticketing-hosts-"))
        self.hosts: list[Host] = []
        self.pgbouncer = self.haproxy = None
        self._stack = ExitStack()
        try:
            self.network = self._network(count)
            self._stack.callback(self.network.close)
            self.pgbouncer = PgBouncer(self.directory, database_url, self.network.gateway)
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

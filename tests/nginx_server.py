"""nginx with the shipped docs/deploy/nginx.conf, on a free port and a temporary prefix, in front of a server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SITE_CONFIG = PROJECT_ROOT / "docs" / "deploy" / "nginx.conf"

# The main context Debian's /etc/nginx/nginx.conf would give, in the prefix; the site file inside http.
_MAIN = """
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/ticketing.conf;
}}
"""


def nginx_binary() -> str | None:
    """Debian's nginx (/usr/sbin is not on every PATH), or None."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def require_nginx() -> str:
    """The nginx binary; a skip when there is none, a failure in CI (CI or REQUIRE_POSTGRES set)."""
    binary = nginx_binary()
    if binary is None:
        message = "nginx is not installed (apt-get install nginx-light)"
        if os.environ.get("CI") or os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


class Nginx:
    """nginx with the shipped site configuration, proxying to 127.0.0.1:`backend_port`; `stop()` ends it."""

    def __init__(self, binary: str, backend_port: int) -> None:
        self.prefix = Path(tempfile.mkdtemp(prefix="nginx-"))
        self.prefix.chmod(0o755)  # nginx's workers run as nobody when it is started as root
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        site = SITE_CONFIG.read_text()
        site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{backend_port};")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        (self.prefix / "ticketing.conf").write_text(site)
        (self.prefix / "nginx.conf").write_text(_MAIN.format(prefix=self.prefix))
        self.process = subprocess.Popen(
            [
                binary,
                "-p",
                str(self.prefix),
                "-c",
                str(self.prefix / "nginx.conf"),
                "-e",
                str(self.prefix / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited early:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nginx did not start:\n{self.log()}") from None
                time.sleep(0.05)

    def log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)

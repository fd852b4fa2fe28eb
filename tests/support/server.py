"""A real Portcullis server in a subprocess, for browser tests and benchmarks.

Playwright's sync API cannot run inside an event loop, so browser tests start the server with
``portcullis serve`` on a free port, exactly as a person would, and talk to it over HTTP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["RunningServer", "free_port", "portcullis", "running_server"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RunningServer:
    """A started server: its base URL, environment and log file."""

    def __init__(self, base_url: str, env: dict[str, str], log: Path) -> None:
        self.base_url = base_url
        self.env = env
        self.log = log

    def cli(self, *args: str) -> str:
        """Run a ``portcullis`` command against the server's database; returns its stdout."""
        return portcullis(*args, env=self.env)


def portcullis(*args: str, env: Mapping[str, str]) -> str:
    """Run ``python -m idp ARGS`` with ``env``; raise with its stderr if it fails."""
    done = subprocess.run([sys.executable, "-m", "idp", *args], env=dict(env),
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"portcullis {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@contextmanager
def running_server(workdir: Path, *, database_url: str = "",
                   extra_env: Mapping[str, str] | None = None) -> Iterator[RunningServer]:
    """Start ``portcullis serve`` on a free port of localhost; stop it afterwards."""
    port = free_port()
    base_url = f"http://localhost:{port}"
    env = {
        **os.environ,
        "PORTCULLIS_BASE_URL": base_url,
        "PORTCULLIS_PORT": str(port),
        "PORTCULLIS_DATABASE_URL": database_url or f"sqlite://{workdir}/portcullis.sqlite3",
        "PORTCULLIS_SECRET_KEY_FILE": str(workdir / "secret.key"),
        "PORTCULLIS_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    log = workdir / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "idp", "serve"], env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_ready(base_url, process, log)
        yield RunningServer(base_url, env, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"portcullis serve exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/health/ready", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"portcullis serve did not become ready: {log.read_text()[-2000:]}")

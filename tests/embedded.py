"""Start the product as `make run` does on a bare machine: SQLite, no Redis, tasks in-process.

``scripts/run.sh`` is started with nothing configured but a temporary data folder and a
free port, so the test sees exactly the gunicorn command, configuration and number of
worker processes a user gets.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNSET = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Embedded:
    process: subprocess.Popen
    port: int
    env: dict[str, str]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text()

    def demo_login(self) -> tuple[str, str]:
        """The demo owner's email and password, as `make run` prints them."""
        text = self.output()
        email = re.search(r"Log in as: (\S+)", text).group(1)
        password = re.search(r"Password:\s+(\S+)", text).group(1)
        return email, password

    def manage(self, *args: str) -> dict | list:
        """``manage.py <args>`` on the same data folder; its JSON output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, "DEBUG": "true"},  # as scripts/run.sh sets it
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def session_pids(self) -> list[int]:
        """Every process `make run` started (they share its session)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Fields after the command name (which may hold spaces): state, ppid, pgrp, session.
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) == self.process.pid:
                pids.append(int(entry.name))
        return pids

    def connection_owner(self, connection: http.client.HTTPConnection) -> int:
        """The pid of the server process holding the other end of ``connection``."""
        client_port = connection.sock.getsockname()[1]
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            remote_port = int(fields[2].split(":")[1], 16)
            if local_port == self.port and remote_port == client_port:
                inode = fields[9]
        assert inode is not None, "the server side of the connection is not in /proc/net/tcp"
        target = f"socket:[{inode}]"
        for pid in self.session_pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        raise AssertionError("no process of the run holds the connection")


def embedded_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(FOOTFALL_DATA_DIR=str(data_dir), PORT=str(port), FOOTFALL_SKIP_GEOIP="1")
    return env


@contextmanager
def run_embedded(data_dir: Path) -> Iterator[Embedded]:
    """``scripts/run.sh`` (what `make run` runs) until its health check answers; stopped after."""
    port = free_port()
    env = embedded_env(data_dir, port)
    log = data_dir / "run.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    embedded = Embedded(process=process, port=port, env=env, log=log)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{embedded.base}/api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                assert process.poll() is None, embedded.output()
                time.sleep(0.5)
        else:
            pytest.fail("the product did not come up:\n" + embedded.output())
        yield embedded
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)

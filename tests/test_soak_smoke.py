"""``bench/soak --quick``: a small soak with every fault, nothing lost, nothing stored twice.

The soak starts its own PostgreSQL cluster (as the ``postgres`` OS user, so it needs root)
and its own Redis with the append-only file, so it never touches the shared services.
"""

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

needs_own_services = pytest.mark.skipif(
    os.geteuid() != 0
    or not glob.glob("/usr/lib/postgresql/*/bin/initdb")
    or not shutil.which("redis-server")
    or not shutil.which("pg_dump"),
    reason="the soak runs its own PostgreSQL (as root → postgres) and Redis",
)


def figure(output: str, label: str) -> int:
    match = re.search(rf"^{re.escape(label)}\s+([\d,]+)", output, re.M)
    assert match, f"{label!r} not printed:\n{output}"
    return int(match.group(1).replace(",", ""))


@pytest.mark.slow
@needs_own_services
def test_quick_soak_with_every_fault_loses_and_duplicates_nothing():
    result = subprocess.run(
        [
            str(ROOT / "bench" / "soak"),
            "--quick",
            "--events",
            "1500",
            "--min-duration",
            "15",
            "--connections",
            "16",
            "--timeout",
            "280",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=330,
    )
    output = result.stdout + result.stderr
    summary = re.search(r"^RESULT lost=(\d+) duplicates=(\d+) raw_ips=(\d+)", output, re.M)
    assert summary, output
    assert summary.groups() == ("0", "0", "0"), output
    # During the outages only the protocols' 503 with Retry-After, never another 5xx.
    assert figure(output, "503 without Retry-After") == 0
    assert "5xx answers other than 503" not in output, output
    sent = figure(output, "events sent (unique markers)")
    assert sent == 1500 + 200  # the faults' events plus the backlog-cap phase's
    assert figure(output, "answered 2xx") == sent
    assert figure(output, "lost (2xx but not stored)") == 0
    assert figure(output, "stored twice (duplicates)") == 0
    # Every fault was injected, and the outages were seen from outside.
    assert len(re.findall(r"^SIGKILL consumer-[ab] ", output, re.M)) == 3
    for fault in ("restart Celery worker", "restart Redis", "restart PostgreSQL"):
        assert re.search(rf"^{fault} .*\d", output, re.M), output
    assert re.search(r"named 'redis' as failing", output)
    assert re.search(r"named 'database' as failing", output)
    assert "every 503 with Retry-After: yes" in output
    assert "raw IPs found: 0 " in output

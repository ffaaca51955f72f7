"""The README's run command on a bare machine: SQLite, no Redis, tasks in-process."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_run_command_serves_the_product_with_the_embedded_default(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(FOOTFALL_DATA_DIR=str(tmp_path), PORT=str(port), FOOTFALL_SKIP_GEOIP="1")
    log = tmp_path / "run.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.5)
        else:
            pytest.fail("the product did not come up:\n" + log.read_text())
        text = log.read_text()
        email = re.search(r"Log in as: (\S+)", text).group(1)
        password = re.search(r"Password:\s+(\S+)", text).group(1)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": email, "password": password}
        ).encode()
        request = urllib.request.Request(
            f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
        )
        sites_page = opener.open(request).read().decode()
        assert "Demo site" in sites_page
        assert (tmp_path / "footfall.sqlite3").exists()
        # The demo's month of traffic reads back through the dashboard on SQLite too.
        dashboard_path = re.search(r'href="(/sites/[^/"]+/)"', sites_page).group(1)
        dashboard = opener.open(f"{base}{dashboard_path}?period=30d").read().decode()
        page_views = re.search(
            r'data-kpi="views".*?class="kpi-value">([^<]+)<', dashboard, re.S
        ).group(1)
        assert int(page_views.replace(",", "")) > 0
        pages = opener.open(f"{base}{dashboard_path}panels/pages?period=30d").read().decode()
        assert "/pricing" in pages
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)

"""Funnels: the embedded default (SQLite, no Redis) gives PostgreSQL's report."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from stats import query as q
from stats.funnels import selectors as fs

# --- the embedded default -----------------------------------------------------------------

EMBEDDED_SCRIPT = """
import json
from datetime import date
from sites.models import Site
from stats import query as q
from stats.funnels import selectors as fs
from stats.models import Funnel
from tests.stats.funnels import support as t
site = Site.objects.create(display_name="e", hostname="example.com", timezone="UTC")
t.store_traffic(site)
funnel = Funnel.objects.create(site=site, name="Checkout", steps=t.STEPS)
out = {}
for label, filters in (("all", {}), ("de", {"country": ["DE"]})):
    query = q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 2), "UTC", filters)
    out[label] = fs.funnel_report(funnel, query, breakdown="country", compare=True)
print("REPORT" + json.dumps(out, default=str))
"""


def test_the_embedded_default_gives_the_same_report(site, traffic, funnel, tmp_path):
    """SQLite without Redis (``make run`` on a bare machine) answers what PostgreSQL does."""
    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(SECRET_KEY="embedded", DEBUG="false", FOOTFALL_DATA_DIR=str(tmp_path))
    manage = [sys.executable, str(root / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=root, env=env, check=True, timeout=300)
    done = subprocess.run(
        [*manage, "shell", "-c", EMBEDDED_SCRIPT],
        cwd=root,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    embedded = json.loads(done.stdout.split("REPORT", 1)[1])
    for label, filters in (("all", {}), ("de", {"country": ["DE"]})):
        query = q.StatsQuery(site.pk, date(2026, 3, 2), date(2026, 3, 2), "UTC", filters)
        expected = json.loads(
            json.dumps(
                fs.funnel_report(funnel, query, breakdown="country", compare=True), default=str
            )
        )
        for report in (expected, embedded[label]):
            report["funnel"].pop("id"), report["funnel"].pop("site")
        assert embedded[label] == expected

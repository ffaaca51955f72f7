"""``stats.query.groups``: the embedded default (SQLite, no Redis) gives PostgreSQL's groups."""

import json
import os
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from stats import query as q
from tests.factories import SiteFactory
from tests.helpers import event_row, store

QUESTIONS = [
    (("source", "country_code"), None),
    (("hour", "path"), ("pageview",)),
    (("name",), ("pageview", "custom")),
]

EMBEDDED_SCRIPT = """
import json
from dataclasses import asdict
from datetime import date
from sites.models import Site
from stats import query as q
from tests.helpers import store
from tests.stats.plausible_stats.test_groups_embedded import QUESTIONS, answers, traffic
site = Site.objects.create(display_name="e", hostname="example.com", timezone="Europe/Berlin")
store(traffic(site))
print("GROUPS" + json.dumps(answers(site)))
"""


def traffic(site) -> list[dict]:
    """Two days around midnight in Berlin: sessions with views, clicks and a bounce."""
    start = datetime(2026, 3, 1, 21, tzinfo=UTC)
    rows = []
    for n in range(6):
        at = start + timedelta(hours=n, minutes=7 * n)
        fields = {"source": ["Google", "", "Bing"][n % 3], "country_code": ["DE", "FR"][n % 2]}
        rows.append(event_row(site.pk, at, visitor=n % 4, session=n, path=f"/p{n % 2}", **fields))
        if n % 3:
            rows.append(
                event_row(
                    site.pk, at + timedelta(minutes=2), visitor=n % 4, session=n,
                    kind="custom", name="Click", interactive=n % 2 == 0, **fields,
                )
            )  # fmt: skip
            rows.append(
                event_row(
                    site.pk, at + timedelta(minutes=5), visitor=n % 4, session=n, path="/p2",
                    **fields,
                )
            )  # fmt: skip
    return rows


def answers(site) -> dict:
    query = q.StatsQuery(site.pk, date(2026, 3, 1), date(2026, 3, 2), site.timezone)
    filtered = q.StatsQuery(
        site.pk, date(2026, 3, 1), date(2026, 3, 2), site.timezone, {"country": ["DE"]}
    )
    return {
        f"{'.'.join(columns)}/{label}": sorted(
            [str(day), list(key), asdict(metrics)]
            for day, values in q.groups(asked, columns, kinds).items()
            for key, metrics in values.items()
        )
        for columns, kinds in QUESTIONS
        for label, asked in (("all", query), ("de", filtered))
    }


def test_the_embedded_default_gives_the_same_groups(db, tmp_path):
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
    embedded = json.loads(done.stdout.split("GROUPS", 1)[1])
    site = SiteFactory(timezone="Europe/Berlin")
    store(traffic(site))
    expected = answers(site)
    assert any(rows for rows in expected.values())
    assert embedded == expected

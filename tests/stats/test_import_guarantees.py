"""What every import promises (issue #16): deleting an ``events`` import takes its events out
and the statistics back to what they were; the same file twice doubles nothing; a zip bomb
is refused; bad input names the file, line and column and nothing of it is ever shown; only
Owners and Admins import, export, cancel or delete."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from stats import imports
from stats import query as q
from stats.dimensions import BY_BREAKDOWN
from stats.models import (
    DailyDimensionStats,
    DailySiteStats,
    Import,
    ImportedBreakdownDay,
    ImportedDay,
    ImportedSession,
)
from stats.query.sources import imported
from stats.rollups import rollup_site
from stats.tasks import import_run
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.stats.test_plausible_import import (
    CHROME,
    FIREFOX,
    IPHONE,
    make_zip,
    small_export,
)
from tracking.models import Event

AGENTS = [FIREFOX, CHROME, IPHONE]
FIRST, LAST = date(2024, 5, 1), date(2024, 5, 6)


@pytest.fixture
def site(db):
    return SiteFactory(hostname="dummy.site", display_name="Dummy", timezone="Europe/Berlin")


def traffic(seed: int, visitors: int, days: int, start: int = 0) -> bytes:
    """NDJSON rows: each visitor's visits over ``days`` days (pages, a custom event with a
    property, a campaign now and then), deterministic for a seed."""
    rows = []
    for v in range(visitors):
        for d in range(start, start + days):
            if (v * 7 + d * 3 + seed) % 4 == 0:
                continue
            at = datetime(2024, 5, 1, 8, tzinfo=UTC) + timedelta(days=d, minutes=(v * 37) % 600)
            base = {
                "visitor_key": f"s{seed}v{v}",
                "user_agent": AGENTS[(v + seed) % 3],
                "country": ["DE", "FR", "US", ""][(v + d) % 4],
            }
            pages = ["/", "/pricing", "/docs", "/blog/a"][: 1 + (v + d + seed) % 4]
            for n, path in enumerate(pages):
                utm = "?utm_source=nl&utm_campaign=may" if n == 0 and (v + seed) % 3 == 0 else ""
                rows.append(
                    {
                        **base,
                        "timestamp": (at + timedelta(seconds=45 * n)).isoformat(),
                        "url": f"https://dummy.site{path}{utm}",
                        "referrer": "https://www.google.com/" if n == 0 and v % 2 else "",
                    }
                )
            if (v + d) % 3 == 0:
                rows.append(
                    {
                        **base,
                        "timestamp": (at + timedelta(seconds=300)).isoformat(),
                        "url": "https://dummy.site/pricing",
                        "event_name": "Signup",
                        "props": {"plan": ["pro", "free"][v % 2]},
                    }
                )
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def snapshot(site) -> dict:
    """Every statistic of the range through the product's read path, and the rollup rows."""
    query = q.StatsQuery(site.pk, FIRST, LAST, site.timezone)
    return {
        "daily": q.daily_metrics(query),
        "totals": q.totals(query),
        "exit": q.exit_pages(query),
        "meta": q.event_meta(query, "Signup", "plan"),
        **{name: q.breakdown(query, name) for name in BY_BREAKDOWN},
        "rolled_days": sorted(
            DailySiteStats.objects.filter(site_id=site.pk).values_list(
                "day", "visitors", "views", "sessions", "bounces", "duration_ms"
            )
        ),
        "rolled_breakdowns": DailyDimensionStats.objects.filter(site_id=site.pk).count(),
    }


def run_events(site, data: bytes, name: str, tmp_path, *extra: str) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    call_command(
        "import", "events", "--site", str(site.pk), *extra, str(path), stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip
    return json.loads(out.getvalue())


@pytest.mark.django_db(transaction=True)
def test_deleting_an_events_import_gives_the_statistics_before_it_back(tmp_path, site):
    # The site's own history (itself an import: its events must survive the other's delete).
    base = run_events(site, traffic(1, visitors=9, days=6), "base.ndjson", tmp_path)
    rollup_site(site)  # past days are rolled up: totals, breakdowns, session rows
    before = snapshot(site)
    assert before["totals"]["visitors"] > 0 and before["rolled_days"]
    events_before = Event.objects.filter(site_id=site.pk).count()

    # Another import over some of the same days (and one day the site had no data on).
    added = run_events(site, traffic(2, visitors=5, days=4, start=3), "more.ndjson", tmp_path)
    assert added["from"] == "2024-05-04" and added["to"] == "2024-05-07"
    rollup_site(site)
    assert snapshot(site) != before
    assert ImportedSession.objects.filter(imported_id=added["import_id"]).exists()

    out = io.StringIO()
    call_command("import", "delete", added["import_id"], stdout=out)
    assert json.loads(out.getvalue()) == {"import_id": added["import_id"], "deleted": True}

    assert Event.objects.filter(site_id=site.pk).count() == events_before
    assert snapshot(site) == before
    assert not DailySiteStats.objects.filter(site_id=site.pk, day=date(2024, 5, 7)).exists()
    assert not ImportedSession.objects.filter(imported_id=added["import_id"]).exists()
    # The other import is untouched, and deleting it too leaves nothing of the site.
    assert Import.objects.filter(pk=base["import_id"]).exists()
    imports.import_delete(Import.objects.get(pk=base["import_id"]))
    assert not Event.objects.filter(site_id=site.pk).exists()
    assert not DailySiteStats.objects.filter(site_id=site.pk).exists()
    assert q.totals(q.StatsQuery(site.pk, FIRST, LAST, site.timezone))["visitors"] == 0


def test_deleting_an_events_import_before_any_rollup_leaves_other_events(tmp_path, site):
    live = SiteFactory(hostname="other.site")
    data = traffic(3, visitors=3, days=2)
    mine = run_events(site, data, "a.ndjson", tmp_path)
    theirs = run_events(live, data, "a.ndjson", tmp_path)  # the same file for another site
    assert mine["import_id"] != theirs["import_id"]
    count = Event.objects.filter(site_id=live.pk).count()
    imports.import_delete(Import.objects.get(pk=mine["import_id"]))
    assert not Event.objects.filter(site_id=site.pk).exists()
    assert Event.objects.filter(site_id=live.pk).count() == count


def test_the_same_events_file_twice_is_one_import_and_one_set_of_events(tmp_path, site):
    data = traffic(4, visitors=4, days=2)
    first = run_events(site, data, "a.ndjson", tmp_path)
    count = Event.objects.filter(site_id=site.pk).count()
    sessions = ImportedSession.objects.count()
    assert run_events(site, data, "b.ndjson", tmp_path) == first  # another name, same bytes
    assert Event.objects.filter(site_id=site.pk).count() == count
    assert ImportedSession.objects.count() == sessions
    assert Import.objects.filter(site=site).count() == 1


# --- bad input: nothing of a failed import is ever shown ------------------------------------


def test_rows_written_before_the_bad_line_are_removed_and_never_shown(site, monkeypatch):
    """The bad value comes after whole chunks were written: while they were stored the
    statistics did not read them, and the failure removes them."""
    monkeypatch.setattr(imports, "WRITE_CHUNK", 2)
    files = small_export()
    files["imported_devices_20240101_20240102.csv"] = (
        "date,device,visitors,visits,visit_duration,bounces,pageviews\n"
        "2024-01-01,Desktop,10,12,600,4,30\n2024-01-02,Mobile,x,1,1,1,1\n"
    )
    upload = [("export.zip", make_zip(files))]
    record, _ = imports.import_create(site=site, kind="plausible", files=upload)
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(
            (
                ImportedBreakdownDay.objects.filter(imported_id=record.pk).count(),
                bool(imported.coverage(site.pk, site.timezone, date(2024, 1, 1), date(2024, 1, 2))),
                q.totals(q.StatsQuery(site.pk, date(2024, 1, 1), date(2024, 1, 2), site.timezone))[
                    "visitors"
                ],
            )
        )

    result = imports.plausible_import_run(record.pk, upload, progress=progress)
    assert result.status == "failed"
    assert result.error.startswith(
        "imported_devices_20240101_20240102.csv: line 3, column visitors: not a whole number"
    )
    assert (result.error_file, result.error_line, result.error_column) == (
        "imported_devices_20240101_20240102.csv",
        3,
        "visitors",
    )
    assert max(rows for rows, _, _ in seen) > 0  # rows had been written…
    assert not any(covered or visitors for _, covered, visitors in seen)  # …never shown
    assert not ImportedDay.objects.exists() and not ImportedBreakdownDay.objects.exists()
    assert not imported.coverage(site.pk, site.timezone, date(2024, 1, 1), date(2024, 1, 2))


def test_a_bad_events_file_names_file_line_and_column_and_stores_nothing(tmp_path, site):
    good = traffic(5, visitors=3, days=2).decode().splitlines()
    bad = [*good[:4], json.dumps({"timestamp": "yesterday", "url": "https://dummy.site/"})]
    with pytest.raises(CommandError, match=r"bad\.ndjson: line 5, column timestamp: not a date"):
        run_events(site, ("\n".join(bad) + "\n").encode(), "bad.ndjson", tmp_path)
    record = Import.objects.get(site=site)
    assert (record.status, record.error_line, record.error_column) == ("failed", 5, "timestamp")
    assert record.error_file.endswith("bad.ndjson")
    assert not Event.objects.filter(site_id=site.pk).exists()


# --- a zip bomb, uploaded ------------------------------------------------------------------


def test_a_zip_bomb_uploaded_in_the_settings_is_refused_and_shows_nothing(
    client, site, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    settings.IMPORT_MAX_BYTES = 1_000_000
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    client.force_login(owner)
    bomb = make_zip(
        {"imported_visitors_20240101_20240102.csv": "date,visitors\n" + "2024-01-01,1\n" * 400_000}
    )
    assert len(bomb) < 50_000
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            f"/sites/{site.public_id}/settings/imports",
            {"files": SimpleUploadedFile("bomb.zip", bomb)},
        )
    assert response.status_code == 302
    record = Import.objects.get(site=site)
    assert import_run.run(record.pk) == "failed"
    record.refresh_from_db()
    assert "refused" in record.error and "bomb.zip" in record.error
    assert not ImportedDay.objects.exists()
    page = client.get(f"/sites/{site.public_id}/settings/imports").content.decode()
    assert "refused" in page


# --- only Owners and Admins ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", None])
def test_viewers_and_strangers_neither_cancel_nor_delete_nor_follow_progress(client, site, role):
    user = UserFactory()
    if role:
        SiteMembershipFactory(site=site, user=user, role=role)
    Import.objects.create(id="imp_kept", site=site, kind="plausible", file_hash="c" * 64)
    client.force_login(user)
    expected = 403 if role else 404
    base = f"/sites/{site.public_id}/settings/imports"
    assert client.get(base + "/progress").status_code == expected
    assert client.post(base + "/imp_kept/cancel").status_code == expected
    assert client.post(base + "/imp_kept/delete").status_code == expected
    assert Import.objects.get(pk="imp_kept").status == "pending"


def test_the_cli_refuses_a_viewer_for_list_cancel_delete_and_events(tmp_path, site):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    record = Import.objects.create(id="imp_kept", site=site, kind="plausible", file_hash="d" * 64)
    for args in (
        ("list", "--site", str(site.pk)),
        ("cancel", record.pk),
        ("delete", record.pk),
    ):
        with pytest.raises(CommandError, match="Owners and Admins"):
            call_command("import", *args, "--user", viewer.email, stdout=io.StringIO())
    with pytest.raises(CommandError, match="Owners and Admins"):
        run_events(site, traffic(6, 2, 1), "v.ndjson", tmp_path, "--user", viewer.email)
    with pytest.raises(CommandError, match="Owners and Admins"):
        call_command(
            "export", "events", "--site", str(site.pk), "--user", viewer.email,
            stdout=io.StringIO(),
        )  # fmt: skip
    assert Import.objects.get(pk=record.pk).status == "pending"
    assert not Event.objects.exists()

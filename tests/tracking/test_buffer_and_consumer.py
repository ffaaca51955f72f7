"""The durable buffer: enqueue → consumer → database, exactly once, whatever fails."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import SiteFactory
from tests.helpers import event_row
from tracking import buffer, writer
from tracking.consumer import EventConsumer
from tracking.models import DeadLetter, Event

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the buffer needs Redis")


def row(site_id: int, **changes) -> dict:
    return event_row(site_id, datetime(2026, 3, 1, 12, tzinfo=UTC), visitor=1, session=2, **changes)


def drain_all(name="test") -> int:
    consumer = EventConsumer(name, block_ms=1, claim_idle_ms=0)
    total = 0
    while handled := consumer.run_once():
        total += handled
    return total


@pytest.fixture
def site(db):
    return SiteFactory()


def test_write_rows_is_idempotent_and_cleans_values(site):
    rows = [row(site.pk, path="/a\x00b", title="t" * 600, props={"k\x00": "v\x00"}), row(site.pk)]
    assert writer.write_rows(rows) == 2
    assert writer.write_rows(rows) == 0
    stored = Event.objects.get(id=rows[0]["id"])
    assert stored.path == "/ab" and len(stored.title) == 512 and stored.props == {"k": "v"}
    site.refresh_from_db()
    assert site.first_event_at is not None


def test_enqueue_then_consume_stores_everything_and_empties_the_stream(site):
    rows = [row(site.pk) for _ in range(50)]
    buffer.enqueue(rows[:20])
    buffer.enqueue(rows[20:])
    assert buffer.backlog_size() == 2
    assert drain_all() == 2
    assert Event.objects.count() == 50
    assert buffer.backlog_size() == 0


def test_a_replayed_batch_makes_no_duplicates(site):
    rows = [row(site.pk) for _ in range(10)]
    buffer.enqueue(rows)
    # A consumer reads the batch and dies before acknowledging it.
    dead = EventConsumer("dead", block_ms=1)
    dead.ensure_group()
    dead.client.xreadgroup("writers", "dead", {settings.EVENT_STREAM_KEY: ">"}, count=10)
    writer.write_rows(rows[:5])  # it had even committed half of it
    assert drain_all("survivor") == 1  # claimed from the dead consumer
    assert Event.objects.count() == 10


def test_poison_entries_go_to_dead_letters_and_the_rest_is_stored(site):
    good = [row(site.pk) for _ in range(3)]
    buffer.enqueue(good)
    buffer.redis_client().xadd(settings.EVENT_STREAM_KEY, {"rows": b"not json"})
    buffer.enqueue([row(site.pk, screen_width="wide")])
    drain_all()
    assert Event.objects.count() == 3
    assert DeadLetter.objects.count() == 2
    assert buffer.backlog_size() == 0


def test_backlog_cap_refuses_with_retry_after(site, settings):
    settings.EVENT_BACKLOG_LIMIT = 2
    buffer.reset_clients()
    for _ in range(3):
        buffer.enqueue([row(site.pk)])
    buffer._backlog_checked.clear()
    with pytest.raises(buffer.BacklogFull) as error:
        buffer.enqueue([row(site.pk)])
    assert error.value.retry_after >= 1


def test_redis_down_raises_buffer_unavailable(site, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    buffer.reset_clients()
    try:
        with pytest.raises(buffer.BufferUnavailable):
            buffer.enqueue([row(site.pk)])
    finally:
        buffer.reset_clients()


def subprocess_env(**extra) -> dict:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        SECRET_KEY="test",
        DEBUG="false",
        EVENT_STREAM_KEY=settings.EVENT_STREAM_KEY,
    )
    env.update(extra)
    return env


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_consumer_killed_mid_batch_loses_and_duplicates_nothing():
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database shared with a subprocess")
    site = SiteFactory()
    ids = []
    for _ in range(60):
        batch = [row(site.pk) for _ in range(250)]
        ids.extend(r["id"] for r in batch)
        buffer.enqueue(batch)
    rng = random.Random(3)
    for attempt in range(4):
        consumer = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "consume_events",
                "--name",
                f"victim-{attempt}",
                "--batch-size",
                "8",
            ],
            cwd=ROOT,
            env=subprocess_env(),
            start_new_session=True,
        )
        time.sleep(rng.uniform(1.0, 2.5))
        os.killpg(consumer.pid, signal.SIGKILL)
        consumer.wait()
    finisher = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "consume_events",
            "--once",
            "--name",
            "finisher",
            "--claim-idle-ms",
            "0",
        ],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finisher.returncode == 0, finisher.stderr
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT id) FROM tracking_event")
        total, distinct = cursor.fetchone()
    assert (total, distinct) == (len(ids), len(ids))
    assert set(str(i) for i in Event.objects.values_list("id", flat=True)) == set(ids)
    assert buffer.backlog_size() == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_accepted_events_survive_a_redis_crash_with_the_append_only_file(tmp_path, settings):
    port = 6391
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
        "--dir",
        str(tmp_path),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    buffer.reset_clients()
    try:
        for _ in range(50):
            try:
                buffer.redis_client().ping()
                break
            except Exception:
                time.sleep(0.1)
        site = SiteFactory()
        rows = [row(site.pk) for _ in range(500)]
        for start in range(0, 500, 50):
            buffer.enqueue(
                rows[start : start + 50]
            )  # each call returned: the client was told "safe"
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        buffer.reset_clients()
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        for _ in range(50):
            try:
                buffer.redis_client().ping()
                break
            except Exception:
                time.sleep(0.1)
        assert drain_all("after-crash") == 10
        assert Event.objects.count() == 500
        assert set(str(i) for i in Event.objects.values_list("id", flat=True)) == {
            r["id"] for r in rows
        }
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        buffer.reset_clients()


def test_stream_entries_hold_no_ip_address(site, client):
    import json as _json

    client.post(
        "/api/event",
        data=_json.dumps(
            {"name": "pageview", "url": f"https://{site.hostname}/", "domain": site.hostname}
        ),
        content_type="text/plain",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        HTTP_X_FORWARDED_FOR="203.0.113.77",
    )
    entries = buffer.redis_client().xrange(settings.EVENT_STREAM_KEY)
    assert entries
    payload = b"".join(v for _, fields in entries for v in fields.values())
    assert b"203.0.113.77" not in payload and b"Firefox/128.0" not in payload
    assert json.loads(entries[0][1][b"rows"])[0]["browser"] == "Firefox"


def test_dead_letters_can_be_replayed_once_fixed(site, capsys):
    from django.core.management import call_command

    bad = row(site.pk, screen_width="wide")
    buffer.enqueue([bad])
    drain_all()
    letter = DeadLetter.objects.get()
    call_command("replay_dead_letters")
    assert "0 replayed, 1 still failing" in capsys.readouterr().out
    fixed = dict(bad, screen_width=1024)
    letter.payload = json.dumps([fixed])
    letter.save()
    call_command("replay_dead_letters")
    assert "1 replayed, 0 still failing" in capsys.readouterr().out
    assert Event.objects.get().screen_width == 1024

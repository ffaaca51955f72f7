"""Optimistic sessions (issue #18): a request guesses its visitor's session instead of
reading it, and the write checks the guess. A wrong guess (another worker served the
visitor, the key expired, Redis was flushed) must never give a wrong session."""

from datetime import UTC, datetime

import pytest
from django.conf import settings

from sites import site_lookup
from tests.factories import SiteFactory
from tracking import ingest, sessions
from tracking.hits import DropReason, Hit, Kind, Protocol

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the optimistic path is Redis's")

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)


@pytest.fixture
def config(db):
    return site_lookup.site_by_id(SiteFactory(hostname="guess.example").pk)


def hit(config, ip="198.51.100.7", **fields) -> Hit:
    values = {
        "site": config,
        "protocol": Protocol.PLAUSIBLE,
        "kind": Kind.PAGEVIEW,
        "name": "pageview",
        "url": "https://guess.example/",
        "user_agent": CHROME,
        "ip": ip,
    }
    values.update(fields)
    return Hit(**values)


def stored(outcome) -> dict:
    from tracking import buffer

    client = buffer.redis_client()
    for _entry_id, fields in client.xrange(settings.EVENT_STREAM_KEY):
        for row in buffer.decode(fields[b"rows"]):
            if row["id"] == outcome.event_id:
                return row
    raise AssertionError("the accepted event is not in the stream")


def test_a_session_another_process_started_is_continued(config):
    [first] = ingest.accept([hit(config)])
    sessions.forget_recent()  # this process never saw it: it guesses "no session"
    [second] = ingest.accept([hit(config, url="https://guess.example/b")])
    a, b = stored(first), stored(second)
    assert (b["session_id"], b["session_start"], b["entry_path"]) == (a["session_id"], False, "/")


def test_a_session_another_process_advanced_is_not_overwritten_by_a_stale_guess(config):
    [first] = ingest.accept([hit(config)])
    remembered = dict(sessions._recent)  # this process's guess after the first page view
    [second] = ingest.accept([hit(config, url="https://guess.example/b")])
    sessions._recent.clear()
    sessions._recent.update(remembered)  # as if another worker had served the second hit
    [third] = ingest.accept([hit(config, kind=Kind.CUSTOM, name="signup")])
    assert stored(third)["session_id"] == stored(first)["session_id"]
    key = sessions._key(config.id, stored(first)["visitor_id"])
    state = sessions.SessionState.from_cache(sessions._loads(sessions._redis().get(key)))
    assert state.pageviews == 2  # the stale guess (one page view) did not win
    assert state.event_names == ["signup"]
    assert stored(second)["session_start"] is False


def test_a_keep_alive_is_not_dropped_on_a_wrong_guess(config):
    ingest.accept([hit(config)])
    sessions.forget_recent()
    [beat] = ingest.accept([hit(config, kind=Kind.HEARTBEAT, name="heartbeat")])
    assert beat.dropped is None and beat.event_id


def test_a_keep_alive_without_a_session_is_dropped(config):
    [beat] = ingest.accept([hit(config, ip="198.51.100.99", kind=Kind.HEARTBEAT, name="hb")])
    assert beat.dropped == DropReason.NO_SESSION


def test_a_guess_of_an_expired_session_starts_a_new_one(config):
    [first] = ingest.accept([hit(config)])
    key = sessions._key(config.id, stored(first)["visitor_id"])
    sessions._redis().delete(key)  # expired in Redis; this process still remembers it
    [second] = ingest.accept([hit(config, url="https://guess.example/b")])
    assert stored(second)["session_start"] is True
    assert stored(second)["session_id"] != stored(first)["session_id"]


def test_a_batch_from_one_visitor_keeps_one_session_whatever_was_guessed(config):
    [first] = ingest.accept([hit(config)])
    sessions.forget_recent()
    later = datetime.now(UTC)
    outcomes = ingest.accept(
        [hit(config, url=f"https://guess.example/{n}", timestamp=later) for n in range(5)]
    )
    ids = {stored(o)["session_id"] for o in outcomes}
    assert ids == {stored(first)["session_id"]}


@pytest.mark.django_db(transaction=True)
def test_requests_racing_for_one_visitor_are_all_accepted():
    """Bulks of one visitor sent at once (a log importer's recorders): every guess but the
    first request's is wrong; none is refused, every hit is in the stream."""
    import threading

    from django.db import connection

    config = site_lookup.site_by_id(SiteFactory(hostname="race.example").pk)
    sessions.forget_recent()
    results: list = []
    errors: list = []

    def send(n: int) -> None:
        try:
            results.extend(
                ingest.accept(
                    [
                        hit(config, ip="198.51.100.50", url=f"https://race.example/{n}/{i}")
                        for i in range(50)
                    ]
                )
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()  # the thread's own (salts are read from the database)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 400 and all(o.event_id for o in results)
    assert len({stored(o)["id"] for o in results}) == 400


def round_trips(monkeypatch) -> list:
    """Commands sent to Redis from now on (the once-a-second backlog check left out)."""
    import redis.connection

    from tracking import buffer

    monkeypatch.setattr(buffer, "BACKLOG_CHECK_INTERVAL", 3600)
    sent: list = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    return sent


def test_a_new_visitors_hit_costs_one_round_trip(config, monkeypatch):
    ingest.accept([hit(config, ip="198.51.100.60")])  # connects, checks the backlog
    sent = round_trips(monkeypatch)
    ingest.accept([hit(config, ip="198.51.100.61")])
    assert len(sent) == 1


def test_a_batch_of_many_visitors_costs_two_round_trips(config, monkeypatch):
    ingest.accept([hit(config, ip="198.51.100.62")])
    sent = round_trips(monkeypatch)
    outcomes = ingest.accept([hit(config, ip=f"203.0.113.{n}") for n in range(100)])
    assert all(o.event_id for o in outcomes)
    assert len(sent) == 2  # read every visitor's sessions, then the checked write

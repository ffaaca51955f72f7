"""Funnel oracle (issue #15): for every mode, the production path (SQL through the query
layer — rolled-up events for covered days, raw events for the rest — then the compact
evaluation in ``stats.funnels.engine``) equals a deliberately plain reference that
enumerates every candidate journey of every visitor or session in Python.

The reference shares no code with production: steps are matched in Python (``fnmatch`` for
``*`` paths, ``re`` for goals), strict order is "consecutive among the unit's page views and
custom events", and the journey is chosen by the rules of docs/funnels.md by brute force:
furthest step, then earliest entry step (open funnels), then earliest events.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stats import query as q
from stats.funnels import selectors as fs
from stats.funnels.steps import parse_steps
from stats.models import Goal
from stats.rollups import rollup_pending
from tests.factories import SiteFactory
from tests.helpers import event_row, store
from tests.strategies import writes_a_site
from tracking.models import Event

START = datetime(2026, 3, 1, tzinfo=UTC)
NOW = START + timedelta(days=2, hours=6)  # rolls up Mar 1 and 2; Mar 3 stays raw
ACTIVITY = ("pageview", "custom")

# The step alternatives a funnel is drawn from ("goal:event" and "goal:page" are the site's goals).
ALTERNATIVES = {
    "pricing": {"type": "page", "path": "/pricing"},
    "blog": {"type": "page", "path": "/blog/*"},
    "checkout": {"type": "page", "path": "/checkout"},
    "cart": {"type": "page", "path": "/cart"},
    "home": {"type": "page", "path": "/"},
    "signup": {"type": "event", "name": "Signup"},
    "signup_pro": {"type": "event", "name": "Signup", "props": {"plan": "pro"}},
    "goal:event": None,
    "goal:page": None,
}
STEP = st.lists(st.sampled_from(sorted(ALTERNATIVES)), min_size=1, max_size=2, unique=True)
EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * 24 * 60 - 1),  # minute within three days
        st.integers(min_value=1, max_value=3),  # visitor
        st.integers(min_value=0, max_value=2),  # the visitor's session
        st.sampled_from(["pageview", "pageview", "pageview", "custom", "custom", "heartbeat"]),
        st.sampled_from(["/", "/pricing", "/checkout", "/cart", "/blog/a", "/blog/b/c"]),
        st.sampled_from(["Signup", "Buy"]),
        st.sampled_from([{}, {"plan": "pro"}, {"plan": "free"}]),
    ),
    max_size=22,
)
WINDOWS = st.sampled_from([60, 30 * 60, 6 * 3600, 86_400, 3 * 86_400])


def _country(visitor: int, session: int) -> str:
    return "DE" if (visitor + session) % 2 else "GB"  # one value per session


def _store(site, events) -> None:
    store(
        [
            event_row(
                site.pk,
                START + timedelta(minutes=minute),
                visitor=visitor,
                session=visitor * 10 + session,
                kind=kind,
                name=name,
                path=path,
                props=props if kind == "custom" else {},
                country_code=_country(visitor, session),
                received_at=START + timedelta(minutes=minute),
            )
            for minute, visitor, session, kind, path, name, props in events
        ]
    )


def _steps_json(drawn: list[list[str]], goals: dict[str, int]) -> list[dict]:
    steps = []
    for alternatives in drawn:
        parsed = []
        for name in alternatives:
            if name.startswith("goal:"):
                parsed.append({"type": "goal", "goal": goals[name]})
            else:
                parsed.append(ALTERNATIVES[name])
        steps.append({"alternatives": parsed})
    return steps


# --- the plain reference ---------------------------------------------------------------


def _matches(event: dict, alternative: dict, goals: dict[int, Goal]) -> bool:
    if alternative["type"] == "page":
        return event["kind"] == "pageview" and fnmatch.fnmatchcase(
            event["path"], alternative["path"]
        )
    if alternative["type"] == "event":
        props = event["props"] or {}
        return (
            event["kind"] == "custom"
            and event["name"] == alternative["name"]
            and all(str(props.get(k)) == v for k, v in alternative.get("props", {}).items())
        )
    goal = goals[alternative["goal"]]
    if goal.event_name:
        return event["kind"] == "custom" and event["name"] == goal.event_name
    return event["kind"] == "pageview" and re.search(goal.path_pattern, event["path"]) is not None


def _reference_in_order(seq, matches, n, strict, window, open_, allowed):
    best = None  # (key, first, combo)
    for first in range(n) if open_ else (0,):
        for length in range(1, n - first + 1):
            for combo in itertools.combinations(range(len(seq)), length):
                if strict and any(b != a + 1 for a, b in itertools.pairwise(combo)):
                    continue
                if not all(first + t in matches[p] for t, p in enumerate(combo)):
                    continue
                if not allowed(seq[combo[0]]):
                    continue
                if seq[combo[-1]]["timestamp"] - seq[combo[0]]["timestamp"] > window:
                    continue
                key = (first + length - 1, -first)
                if best is None or key > best[0] or (key == best[0] and combo < best[2]):
                    best = (key, first, combo)
    if best is None:
        return None
    (last, _), first, combo = best
    return first, last, [seq[p]["timestamp"] for p in combo]


def _reference_any(seq, matches, n, window, allowed):
    for last in range(n - 1, -1, -1):
        entries = []
        for combo in itertools.product(
            *[[p for p in range(len(seq)) if s in matches[p]] for s in range(last + 1)]
        ):
            if len(set(combo)) != len(combo):
                continue
            entry = min(combo)
            if (
                allowed(seq[entry])
                and seq[max(combo)]["timestamp"] - seq[entry]["timestamp"] <= window
            ):
                entries.append(entry)
        if entries:
            start = min(entries)
            reached_at = []
            for k in range(last + 1):
                ends = [
                    max(combo)
                    for combo in itertools.product(
                        *[
                            [p for p in range(start, len(seq)) if s in matches[p]]
                            for s in range(k + 1)
                        ]
                    )
                    if len(set(combo)) == len(combo)
                    and all(seq[p]["timestamp"] - seq[start]["timestamp"] <= window for p in combo)
                ]
                reached_at.append(seq[min(ends)]["timestamp"])
            return 0, last, reached_at
    return None


def reference(events, steps, goals, *, scope, order, window, open_, allowed_sessions):
    """Per step: visitors reaching it, entering at it, dropped before it, and the sorted
    times to convert (ms) — straight from the definition."""
    n = len(steps)
    units: dict[int, list[dict]] = {}
    for event in sorted(events, key=lambda e: (e["timestamp"], e["id"])):
        if event["kind"] in ACTIVITY:
            units.setdefault(
                event["visitor_id" if scope == "visitor" else "session_id"], []
            ).append(event)
    counts = [{"visitors": 0, "entered": 0, "dropped": 0, "times_ms": []} for _ in range(n)]

    def allowed(event):
        return allowed_sessions is None or event["session_id"] in allowed_sessions

    for seq in units.values():
        matches = [
            {
                s
                for s, step in enumerate(steps)
                if any(_matches(e, a, goals) for a in step["alternatives"])
            }
            for e in seq
        ]
        if order == "any":
            found = _reference_any(seq, matches, n, window, allowed)
        else:
            found = _reference_in_order(seq, matches, n, order == "strict", window, open_, allowed)
        if found is None:
            continue
        first, last, reached_at = found
        counts[first]["entered"] += 1
        for step in range(first, last + 1):
            counts[step]["visitors"] += 1
            if step > first:
                delta = reached_at[step - first] - reached_at[step - first - 1]
                counts[step]["times_ms"].append(int(delta.total_seconds() * 1000))
        if last + 1 < n:
            counts[last + 1]["dropped"] += 1
    for count in counts:
        count["times_ms"].sort()
    return counts


# --- the property ----------------------------------------------------------------------

MODES = [
    ("sequential", False),
    ("sequential", True),
    ("strict", False),
    ("strict", True),
    ("any", False),
]


@pytest.mark.parametrize(
    ("order", "open_"), MODES, ids=[f"{o}-{'open' if x else 'closed'}" for o, x in MODES]
)
@writes_a_site(30)
@given(
    events=EVENTS,
    drawn=st.lists(STEP, min_size=2, max_size=4),
    scope=st.sampled_from(["visitor", "session"]),
    window=WINDOWS,
    filtered=st.booleans(),
)
def test_oracle_funnel_equals_plain_reference(
    db, order, open_, events, drawn, scope, window, filtered
):
    site = SiteFactory(timezone="UTC")
    goals = {
        "goal:event": Goal.objects.create(site=site, name="Bought", event_name="Buy").pk,
        "goal:page": Goal.objects.create(site=site, name="Cart", path_pattern="^/cart$").pk,
    }
    _store(site, events)
    rollup_pending(NOW)  # covered days answer from rolled-up events, the last from raw ones
    steps = _steps_json(drawn, goals)
    definition = fs.Definition(parse_steps(steps, set(goals.values())), scope, order, window, open_)
    filters = {"country": ["DE"]} if filtered else {}
    query = q.StatsQuery(site.pk, date(2026, 3, 1), date(2026, 3, 3), "UTC", filters)

    counts = fs.step_counts(fs.journeys(query, definition), len(steps))
    for count in counts:
        count["times_ms"].sort()
    stored = list(
        Event.objects.filter(site=site).values(
            "id",
            "timestamp",
            "kind",
            "name",
            "path",
            "props",
            "visitor_id",
            "session_id",
            "country_code",
        )
    )
    allowed = {e["session_id"] for e in stored if e["country_code"] == "DE"} if filtered else None
    expected = reference(
        stored,
        steps,
        {goal.pk: goal for goal in Goal.objects.filter(site=site)},
        scope=scope,
        order=order,
        window=timedelta(seconds=window),
        open_=open_,
        allowed_sessions=allowed,
    )
    assert counts == expected
    # The reports' path (closed sequential funnels: evaluated in SQL, ``chains``).
    assert _sorted(fs.tally(query, definition)[0].counts) == expected
    # The same answers from raw events alone (no rolled-up part).
    raw_query = q.StatsQuery(**{**query.__dict__, "raw": True})
    assert _sorted(fs.step_counts(fs.journeys(raw_query, definition), len(steps))) == expected
    assert _sorted(fs.tally(raw_query, definition)[0].counts) == expected


def _sorted(counts: list[dict]) -> list[dict]:
    for count in counts:
        count["times_ms"].sort()
    return counts

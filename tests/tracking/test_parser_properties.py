"""Property tests for every ingestion adapter's parser, and for the views around them.

The per-protocol test files already post random JSON trees to each endpoint; this file
adds what they do not: the parser functions called directly with every wrong type per
field, huge numbers, NUL bytes, lone surrogates, oversized strings and deep nesting (the
parser returns a value or raises its protocol's error, nothing else); raw bytes and
invalid UTF-8 through the shared body reader; and, through the views, that a rejected
batch stores nothing at all while an accepted one stores nothing unstorable (no NUL).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create
from tests.factories import SiteMembershipFactory, UserFactory
from tracking.hits import Hit, Kind, SiteConfig
from tracking.http import BodyTooLarge, InvalidBody, read_json, storable_text
from tracking.models import Event
from tracking.protocols import footfall, matomo, pirsch, plausible, swetrix

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
SITE = SiteConfig(
    id=1, public_id="AbCdEfGhIj", hostname="dummy.site", timezone="UTC", tracking_state="active"
)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PROPERTY_SETTINGS = hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Text with everything a hostile client can put in a JSON string: NUL, control characters,
# lone surrogates (valid JSON escapes), right-to-left marks, very long runs.
hostile_text = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\ud800",
            "x\udfffy",
            "\u202e",
            "<script>alert(1)</script>",
            '=HYPERLINK("http://evil")',
            "javascript:alert(1)",
            "9" * 400,
        ]
    ),
    st.integers(min_value=1000, max_value=200_000).map(lambda n: "x" * n),
)
huge_numbers = st.one_of(
    st.integers(min_value=-(10**60), max_value=10**60),
    st.sampled_from([2**63, -(2**63) - 1, 10**308, 1e308, -1e308, 5e-324]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), huge_numbers, hostile_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)


def deep(depth: int, kind: str):
    value: object = "bottom"
    for _ in range(depth):
        value = [value] if kind == "list" else {"p": value}
    return value


def nested_text(depth: int, kind: str) -> str:
    """A JSON document ``depth`` levels deep, as a string (what a props/revenue string may be)."""
    return "[" * depth + "]" * depth if kind == "list" else '{"p":' * depth + "1" + "}" * depth


nested_strings = st.builds(nested_text, st.integers(1, 5000), st.sampled_from(["list", "object"]))
wrong_values = st.one_of(
    json_values, st.integers(1, 400).map(lambda d: deep(d, "list")), nested_strings
)


def mutated(base: dict, fields: list[str]):
    """The valid ``base`` with one field (or one field of its own list) replaced or removed."""
    return st.tuples(st.sampled_from(fields), wrong_values, st.booleans()).map(
        lambda change: _apply(base, *change)
    )


def _apply(base: dict, field: str, value, remove: bool) -> dict:
    payload = dict(base)
    if remove:
        payload.pop(field, None)
    else:
        payload[field] = value
    return payload


def assert_storable(hit: Hit) -> None:
    """What a parser accepted can be written: no NUL and no lone surrogate in any string."""
    for name in ("name", "url", "referrer", "title", "user_agent", "language"):
        value = getattr(hit, name, "")
        if isinstance(value, str):
            assert "\x00" not in value, name
            value.encode("utf-8")
    json.dumps(hit.props).encode("utf-8")
    # A NUL anywhere in the props (key or value, at any depth) cannot go into jsonb. The
    # six characters ``\\u0000`` typed as text are fine: json.dumps escapes the backslash.
    assert not _has_nul(hit.props)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


# --------------------------------------------------------------------- Plausible
PLAUSIBLE_BASE = {"name": "pageview", "url": "https://dummy.site/a", "domain": "dummy.site"}
PLAUSIBLE_FIELDS = [
    *PLAUSIBLE_BASE,
    "referrer",
    "props",
    "revenue",
    "interactive",
    "h",
    "w",
    "sd",
    "e",
    "n",
    "u",
    "d",
    "p",
    "$",
]


@PROPERTY_SETTINGS
@given(payload=st.one_of(mutated(PLAUSIBLE_BASE, PLAUSIBLE_FIELDS), json_values))
def test_plausible_parser_returns_an_event_or_a_plausible_error(payload):
    try:
        event = plausible.parse_event(storable_text(payload))
    except plausible.PlausibleError as error:
        assert error.errors and all(isinstance(v, list) and v for v in error.errors.values())
        return
    hit = plausible.to_hit(event, SITE, user_agent=CHROME, ip="192.0.2.1", accept_language="")
    assert_storable(hit)
    assert len(hit.props) <= plausible.MAX_PROPS


def _expected_props(props: dict) -> dict | None:
    """The model of Plausible's props rules: scalar, non-blank pairs as strings; the first 30
    kept; None (a 400) when a kept key or value is over 300 / 2,000 UTF-8 bytes."""
    pairs = []
    for key, value in props.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float) and value == value:
            value = str(value)
        if isinstance(value, str) and value.lstrip() and key.lstrip():
            pairs.append((key, value))
    kept = dict(pairs[: plausible.MAX_PROPS])
    if any(
        len(k.encode()) > plausible.MAX_PROP_KEY or len(v.encode()) > plausible.MAX_PROP_VALUE
        for k, v in kept.items()
    ):
        return None
    return kept


def _undecodable(text: str) -> bool:
    """Valid JSON nested beyond what Python's decoder follows."""
    try:
        json.loads(text)
    except RecursionError:
        return True
    except ValueError:
        return False
    return False


prop_keys = st.one_of(
    st.text(max_size=8), st.integers(295, 305).map(lambda n: "k" * n), st.just("é" * 151)
)
prop_values = st.one_of(
    scalars,
    st.integers(1995, 2005).map(lambda n: "v" * n),
    st.just("é" * 1001),
    st.lists(scalars, max_size=2),
)


@PROPERTY_SETTINGS
@given(
    props=st.dictionaries(prop_keys, prop_values, max_size=40),
    as_string=st.booleans(),
    revenue=st.one_of(st.none(), nested_strings, json_values),
)
def test_plausible_props_follow_the_model_or_answer_400(props, as_string, revenue):
    props = storable_text(props)
    payload = dict(PLAUSIBLE_BASE, props=json.dumps(props) if as_string else props)
    if revenue is not None:
        payload["revenue"] = revenue
    expected = _expected_props(props)
    too_deep = isinstance(revenue, str) and _undecodable(revenue)
    try:
        event = plausible.parse_event(storable_text(payload))
    except plausible.PlausibleError as error:
        assert expected is None or too_deep, error.errors
        assert set(error.errors) <= {"props", "revenue"}
        return
    assert expected is not None and not too_deep
    assert event.props == expected
    assert event.props_discarded == max(
        0, sum(1 for k, v in props.items() if _expected_props({k: v})) - plausible.MAX_PROPS
    )


# --------------------------------------------------------------------- Swetrix
SWETRIX_BASE = {"pid": "AbCdEfGhIj", "pg": "/", "ev": "Signup", "message": "boom"}
SWETRIX_FIELDS = [
    *SWETRIX_BASE,
    "lc",
    "tz",
    "ref",
    "so",
    "me",
    "ca",
    "te",
    "co",
    "qs",
    "prev",
    "unique",
    "meta",
    "perf",
    "profileId",
    "name",
    "filename",
    "lineno",
    "colno",
    "stackTrace",
]


@PROPERTY_SETTINGS
@given(
    payload=st.one_of(mutated(SWETRIX_BASE, SWETRIX_FIELDS), json_values),
    kind=st.sampled_from([Kind.PAGEVIEW, Kind.CUSTOM, Kind.HEARTBEAT, Kind.ERROR]),
)
def test_swetrix_parser_returns_a_hit_or_a_swetrix_error(payload, kind):
    payload = storable_text(payload)
    try:
        swetrix.require_pid(payload)
        hit = swetrix.build_hit(
            SITE, payload, kind, user_agent=CHROME, ip="192.0.2.1", accept_language=""
        )
    except swetrix.SwetrixError as error:
        body = error.body()
        assert set(body) == {"statusCode", "message", "error"}
        assert 400 <= body["statusCode"] < 500
        return
    assert_storable(hit)


# --------------------------------------------------------------------- Pirsch
PIRSCH_BASE = {
    "url": "https://dummy.site/a",
    "ip": "203.0.113.9",
    "user_agent": CHROME,
    "event_name": "Signup",
    "time": "2026-06-01T11:00:00Z",
}
PIRSCH_FIELDS = [
    *PIRSCH_BASE,
    *pirsch.TEXT_FIELDS,
    "screen_width",
    "screen_height",
    "tags",
    "event_meta",
    "event_duration",
    "non_interactive",
    "disable_bot_filter",
]


@PROPERTY_SETTINGS
@given(
    payload=st.one_of(mutated(PIRSCH_BASE, PIRSCH_FIELDS), json_values),
    kind=st.sampled_from([Kind.PAGEVIEW, Kind.CUSTOM, Kind.HEARTBEAT]),
    batch=st.booleans(),
)
def test_pirsch_parser_returns_a_hit_or_a_pirsch_validation_error(payload, kind, batch):
    try:
        parsed = pirsch.parse_hit(storable_text(payload), kind, batch=batch, now=NOW)
    except pirsch.PirschValidationError as error:
        assert error.validation and all(isinstance(v, str) for v in error.validation.values())
        return
    hit = pirsch.to_hit(parsed, SITE, "203.0.113.9")
    assert_storable(hit)
    if batch:
        assert parsed.timestamp <= NOW + pirsch.FUTURE_SKEW


# --------------------------------------------------------------------- Matomo
MATOMO_BASE = {"idsite": "1", "rec": "1", "url": "https://dummy.site/a", "action_name": "Home"}
MATOMO_FIELDS = [
    *MATOMO_BASE,
    "e_c",
    "e_a",
    "e_n",
    "e_v",
    "c_n",
    "c_i",
    "link",
    "download",
    "search",
    "search_count",
    "idgoal",
    "revenue",
    "ec_id",
    "ec_items",
    "_cvar",
    "cvar",
    "cdt",
    "res",
    "uid",
    "cid",
    "_id",
    "gt_ms",
    "_idvc",
    "urlref",
    "ua",
    "lang",
    "ping",
    "new_visit",
]
matomo_values = st.one_of(
    hostile_text,
    huge_numbers.map(str),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.sampled_from(
        ["undefined", "", "1", "0", "-1", "1e999", "NaN", "2011-04-05 00:11:42", "99999999999"]
    ),
)


@PROPERTY_SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(MATOMO_FIELDS) | hostile_text, matomo_values, max_size=8
    ),
    keep_base=st.booleans(),
    authorized=st.booleans(),
)
def test_matomo_parser_returns_a_hit_or_a_matomo_error(params, keep_base, authorized):
    pairs = list({**(MATOMO_BASE if keep_base else {}), **params}.items())
    request = matomo.Request.from_pairs(pairs)
    assert all("\x00" not in value for value in request.params.values())
    try:
        hit = matomo.build_hit(
            SITE,
            request,
            authorized=authorized,
            header_user_agent=CHROME,
            header_language="",
            ip="192.0.2.1",
            now=NOW,
            cdt_max_age=timedelta(hours=4),
        )
    except matomo.MatomoError as error:
        assert str(error)
        return
    assert_storable(hit)
    if hit.timestamp is not None:
        assert hit.timestamp <= NOW


# --------------------------------------------------------------------- Footfall snippet
FOOTFALL_BASE = {
    "k": "pk_live_" + "a" * 32,
    "u": "https://dummy.site/a",
    "r": "https://ref.example/",
    "t": "Title",
    "w": 1280,
    "e": [{"t": "pageview"}, {"t": "custom", "n": "Signup", "p": {"plan": "pro"}}],
}
FOOTFALL_FIELDS = [*FOOTFALL_BASE, "h"]
footfall_signals = st.fixed_dictionaries(
    {"t": st.sampled_from(list(footfall.SIGNALS)) | hostile_text},
    optional={"n": scalars, "p": json_values, "$": json_values},
)


@PROPERTY_SETTINGS
@given(
    payload=st.one_of(
        mutated(FOOTFALL_BASE, FOOTFALL_FIELDS),
        st.lists(footfall_signals, min_size=1, max_size=5).map(lambda e: dict(FOOTFALL_BASE, e=e)),
        json_values,
    )
)
def test_footfall_parser_returns_a_collection_or_a_collect_error(payload):
    try:
        collection = footfall.parse_collection(storable_text(payload))
    except footfall.CollectError as error:
        body = error.body()
        assert set(body) == {"error"} and 400 <= body["error"]["status"] < 500
        return
    for signal in collection.signals:
        hit = footfall.to_hit(
            collection,
            signal,
            SITE,
            user_agent=CHROME,
            ip="192.0.2.1",
            accept_language="",
            do_not_track=False,
        )
        assert_storable(hit)


# --------------------------------------------------------------------- the shared body reader
@PROPERTY_SETTINGS
@given(
    body=st.one_of(
        st.binary(max_size=500),
        st.sampled_from(
            [
                b"\xff\xfe{}",
                b'{"a": "\xc3\x28"}',
                b'{"a": "\\ud800"}',
                b"[" * 100_000,
                b'{"a":' * 50_000,
                b"1" * 5000,
                b'{"n": 1e999999}',
                b"\x00" * 64,
            ]
        ),
    )
)
def test_body_reader_returns_storable_json_or_raises_invalid_body(body):
    request = RequestFactory().post("/api/event", data=body, content_type="text/plain")
    try:
        value = read_json(request, 200_000)
    except (InvalidBody, BodyTooLarge):
        return
    encoded = json.dumps(value)
    assert "\\u0000" not in encoded
    encoded.encode("utf-8")


# --------------------------------------------------------------------- through the views
@pytest.fixture
def pa_key(site):
    owner = UserFactory()
    SiteMembershipFactory(site=site, user=owner, role="owner")
    return api_client_create(user=owner, type="key", site=site)[1]["key"]


def _batch_entry(site, run: str, index: int) -> dict:
    return {
        "url": f"https://{site.hostname}/batch/{run}/{index}",
        "ip": "203.0.113.9",
        "user_agent": CHROME,
        "event_name": "Signup",
        "time": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }


@hsettings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bad_index=st.integers(0, 9),
    field=st.sampled_from(["url", "ip", "user_agent", "time", "event_name", "tags", "event_meta"]),
    value=wrong_values,
    endpoint=st.sampled_from(["/api/v1/hit/batch", "/api/v1/event/batch", "/api/v1/session/batch"]),
)
def test_a_rejected_batch_stores_nothing(
    client, site, pa_key, drain, bad_index, field, value, endpoint
):
    # Each example's events carry their own marker: the writer's staging table keeps rows
    # until commit, so deleting events between examples of one test would not stick.
    run = uuid.uuid4().hex[:12]
    entries = [_batch_entry(site, run, i) for i in range(10)]
    entries[bad_index][field] = value
    response = client.post(
        endpoint,
        data=json.dumps(entries),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {pa_key}",
    )
    assert response.status_code in (200, 400), response.content
    body = response.content
    if response.status_code == 400:
        error = json.loads(body)
        assert set(error) == {"validation", "error", "context"}
        drain()
        assert not Event.objects.filter(path__startswith=f"/batch/{run}/").exists()
    else:  # the replacement happened to be valid: all ten are stored, none twice
        drain()
        stored = Event.objects.filter(path__startswith=f"/batch/{run}/").count()
        assert stored in (0, 10)  # 0: heartbeats without a live session are dropped


@hsettings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bad_index=st.integers(0, 4),
    value=wrong_values,
)
def test_a_rejected_snippet_collection_stores_nothing(client, site, drain, bad_index, value):
    run = uuid.uuid4().hex[:12]
    events = [{"t": "custom", "n": f"Step {i}", "p": {"i": str(i)}} for i in range(5)]
    events[bad_index] = {"t": "custom", "n": value} if bad_index % 2 else value
    payload = {"k": site.public_key, "u": f"https://{site.hostname}/{run}", "e": events}
    response = client.post(
        "/api/collect", data=json.dumps(payload), content_type="text/plain", HTTP_USER_AGENT=CHROME
    )
    assert response.status_code in (202, 400, 413), response.content
    if response.status_code != 202:
        assert set(json.loads(response.content)) == {"error"}
        drain()
        assert not Event.objects.filter(path=f"/{run}").exists()


@hsettings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile_text)
def test_hostile_strings_are_stored_without_nul_or_surrogates(client, site, drain, text):
    """NUL and lone surrogates in an accepted event never reach (or break) the database."""
    body = {
        "name": "Hostile",
        "url": f"https://{site.hostname}/h",
        "domain": site.hostname,
        "props": {"v": text or "-"},
    }
    response = client.post(
        "/api/event", data=json.dumps(body), content_type="text/plain", HTTP_USER_AGENT=CHROME
    )
    assert response.status_code in (202, 400, 413)  # 413: a 200,000-character value
    for event in drain():
        assert "\x00" not in json.dumps(event.props)

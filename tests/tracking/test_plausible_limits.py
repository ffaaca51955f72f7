"""Plausible props limits, drop reasons and hostile JSON strings (#13 item 7, #21 item 7)."""

import json

import pytest

from tests.tracking.test_plausible import SEED_BODY, post
from tracking.protocols.plausible import PROPS_TOO_LONG, TOO_DEEP

# Valid JSON, deeper than the decoder follows (its limit is the recursion limit, ~1,000),
# and small enough for the 64 KiB body limit.
NESTED = "[" * 30_000 + "]" * 30_000


def test_props_past_thirty_are_discarded_and_the_header_says_why(client, site, drain):
    props = {f"k{i:02}": str(i) for i in range(35)}
    response = post(client, dict(SEED_BODY, props=props))
    assert response.status_code == 202
    assert response["x-plausible-dropped-reason"] == "props_limit"
    assert not response.has_header("x-plausible-dropped")  # the event itself is recorded
    [event] = drain()
    assert event.props == {f"k{i:02}": str(i) for i in range(30)}


def test_thirty_props_drop_nothing(client, site, drain):
    response = post(client, dict(SEED_BODY, props={f"k{i:02}": "v" for i in range(30)}))
    assert response.status_code == 202
    assert not response.has_header("x-plausible-dropped-reason")
    assert len(drain()[0].props) == 30


@pytest.mark.parametrize(
    "props",
    [
        {"k" * 301: "v"},
        {"plan": "v" * 2001},
        {"plan": "é" * 1001},  # 1,001 characters, 2,002 UTF-8 bytes: upstream counts bytes
        {"é" * 151: "v"},
        {"ok": "v", "number": 10**2001},  # numbers become strings, then count
    ],
)
@pytest.mark.parametrize("as_string", [False, True])
def test_props_over_the_length_limits_are_400_and_store_nothing(
    client, site, drain, props, as_string
):
    value = json.dumps(props) if as_string else props
    response = post(client, dict(SEED_BODY, props=value))
    assert response.status_code == 400
    assert response.json() == {"errors": {"props": [PROPS_TOO_LONG]}}
    assert drain() == []


def test_props_at_the_length_limits_are_kept(client, site, drain):
    props = {"k" * 300: "v" * 2000, "plan": "é" * 1000}
    assert post(client, dict(SEED_BODY, props=props)).status_code == 202
    assert drain()[0].props == props


def test_a_long_prop_past_the_thirtieth_is_discarded_not_refused(client, site, drain):
    props = {**{f"k{i:02}": "v" for i in range(30)}, "late": "x" * 5000}
    response = post(client, dict(SEED_BODY, props=props))
    assert response.status_code == 202 and response["x-plausible-dropped-reason"] == "props_limit"
    assert "late" not in drain()[0].props


@pytest.mark.parametrize(("field", "key"), [("props", "props"), ("p", "props"), ("revenue", "revenue"), ("$", "revenue")])  # fmt: skip
@pytest.mark.parametrize("nested", [NESTED, '{"a":' * 5_000 + "1" + "}" * 5_000])
def test_deeply_nested_json_strings_are_400_and_store_nothing(
    client, site, drain, field, key, nested
):
    response = post(client, dict(SEED_BODY, **{field: nested}))
    assert response.status_code == 400
    assert response.json() == {"errors": {key: [TOO_DEEP]}}
    assert drain() == []


def test_props_strings_with_nul_and_lone_surrogates_are_stored_clean(client, site, drain):
    props = json.dumps({"a\u0000": "x\u0000y", "b": "\ud800z"})
    assert post(client, dict(SEED_BODY, props=props)).status_code == 202
    [event] = drain()
    assert event.props == {"a": "xy", "b": "?z"}


def test_dropped_events_say_why(client, site, drain):
    bot = post(
        client,
        SEED_BODY,
        ua="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )
    assert (bot["x-plausible-dropped"], bot["x-plausible-dropped-reason"]) == ("1", "bot")
    unknown = post(client, dict(SEED_BODY, domain="dummy.site,nobody.example"))
    assert unknown["x-plausible-dropped"] == "1"
    assert unknown["x-plausible-dropped-reason"] == "unknown_domain"
    twice = post(client, dict(SEED_BODY, domain="dummy.site,dummy.site"))
    assert twice["x-plausible-dropped-reason"] == "duplicate_domain"
    recorded = post(client, SEED_BODY)
    assert not recorded.has_header("x-plausible-dropped-reason")
    assert len(drain()) == 3  # the bot's event is the only one missing

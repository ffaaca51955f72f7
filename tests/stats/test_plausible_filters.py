"""Plausible's filter grammar: v1 strings and v2 lists round-trip, and every filter Footfall
accepts selects the visitors a plain Python reference selects (Plausible's semantics)."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.services import api_client_create
from stats.api.plausible.filters import (
    And,
    Condition,
    FilterError,
    Not,
    Or,
    parse_v1,
    parse_v2,
    render_v1,
    render_v2,
    split_goals,
    to_footfall,
)
from stats.models import Goal
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.helpers import event_row, store

# --- round trips (no database) --------------------------------------------------------------

DIMENSIONS = st.sampled_from(
    ["event:page", "visit:source", "visit:country", "event:name", "event:props:plan", "visit:city"]
)
# Anything but the grammar's own characters at the edges (``;`` separates, ``*`` is a
# wildcard, ``\`` escapes, edges are trimmed).
TEXT = st.text(
    alphabet=st.characters(
        blacklist_characters=";*\\\x00", blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")
    ),
    min_size=1,
    max_size=12,
)
V1_CONDITION = st.builds(
    Condition,
    st.sampled_from(["is", "is_not", "contains"]),
    DIMENSIONS,
    st.lists(TEXT, min_size=1, max_size=3).map(tuple),
)


def v2_tree(depth: int = 0):
    condition = st.builds(
        Condition,
        st.sampled_from(["is", "is_not", "contains", "contains_not", "matches", "matches_not"]),
        DIMENSIONS,
        st.lists(st.text(max_size=10), min_size=1, max_size=3).map(tuple),
    )
    if depth >= 2:
        return condition
    inner = st.lists(v2_tree(depth + 1), min_size=1, max_size=3).map(tuple)
    return st.one_of(
        condition,
        condition.map(Not),
        inner.map(And),
        inner.map(Or),
    )


@given(st.lists(V1_CONDITION, max_size=5))
def test_v1_strings_round_trip(conditions):
    tree = And(tuple(conditions))
    assert parse_v1(render_v1(tree)) == tree


@given(st.lists(v2_tree(), max_size=4))
def test_v2_lists_round_trip_through_json(children):
    tree = And(tuple(children))
    assert parse_v2(json.loads(json.dumps(render_v2(tree)))) == tree


def test_v1_wildcards_and_alternatives():
    tree = parse_v1("visit:source==Google|Bing;event:page==/blog**;event:page!=/a*/b")
    assert tree == And(
        (
            Condition("is", "visit:source", ("Google", "Bing")),
            Condition("matches", "event:page", (r"^/blog.*$",)),
            Condition("matches_not", "event:page", (r"^/a[^/]*/b$",)),
        )
    )
    assert parse_v1(r"event:page==/a\|b") == And((Condition("is", "event:page", ("/a|b",)),))


@pytest.mark.parametrize(
    "text", ["visit:source", "visit:source=Google", "nope==1", "visit:foo==1", "==x"]
)
def test_v1_malformed_or_unknown_properties_are_refused(text):
    with pytest.raises(FilterError):
        parse_v1(text)


@pytest.mark.parametrize(
    "filters",
    [
        {"x": 1},
        [["is"]],
        [["is", "event:page", "/"]],
        [["is", "event:page", [None]]],
        [["and", []]],
        [["not"]],
        [["is", "event:page", ["/"], {}, 1]],
        [["zzz", "event:page", ["/"]]],
    ],
)
def test_v2_malformed_filters_are_refused(filters):
    with pytest.raises(FilterError):
        parse_v2(filters)


def test_v2_nesting_is_bounded():
    deep: list = ["is", "event:page", ["/"]]
    for _ in range(20):
        deep = ["not", deep]
    with pytest.raises(FilterError):
        parse_v2([deep])


# --- the reference: visitors selected by a filter tree, Plausible's semantics -----------------

DAY = date(2026, 10, 6)
# (visitor, source, country, [(kind, name, path), ...]); one session per visitor.
SESSIONS = [
    (
        1,
        "Google",
        "DE",
        [
            ("pageview", "", "/", {}),
            ("pageview", "", "/blog/x", {}),
            ("custom", "Signup", "/blog/x", {"plan": "pro"}),
        ],
    ),
    (2, "Bing", "FR", [("pageview", "", "/a", {})]),
    (3, "", "US", [("pageview", "", "/", {}), ("custom", "Buy", "/", {"plan": "free"})]),
    (4, "Google", "FR", [("pageview", "", "/a", {}), ("pageview", "", "/blog/y", {})]),
    (5, "DuckDuckGo", "DE", [("custom", "Signup", "/", {"plan": "free"})]),
]
# The oracle site's goals (Plausible's names): an event goal and a page goal.
GOALS = {"Signup": ("custom", "Signup"), "Visit /a": ("pageview", "/a")}
VALUES = {
    "event:page": ["/", "/a", "/blog/x", "/blog/y", "blog", "/b"],
    "visit:source": ["Google", "Bing", "DuckDuckGo", "oo", "Yahoo"],
    "visit:country": ["DE", "FR", "US", "GB"],
    "event:name": ["Signup", "Buy", "Nope"],
    "event:props:plan": ["pro", "free", "enterprise"],
}
PAGE_REGEXES = [r"^/blog/", r"^/a$", r"x$", r"^/$"]


def _value(dimension: str, session, event) -> str:
    _visitor, source, country, _events = session
    kind, name, path, props = event
    return {
        "event:page": path,
        "visit:source": source,
        "visit:country": country,
        "event:name": name if kind == "custom" else "pageview",
        "event:props:plan": props.get("plan"),
    }[dimension]


def _reaches(goal: str, event) -> bool:
    kind, name, path, _props = event
    goal_kind, target = GOALS[goal]
    return kind == goal_kind and (name if kind == "custom" else path) == target


def _holds(node, session, event) -> bool:
    if isinstance(node, And):
        return all(_holds(child, session, event) for child in node.children)
    if isinstance(node, Or):
        return any(_holds(child, session, event) for child in node.children)
    if isinstance(node, Not):
        return not _holds(node.child, session, event)
    if node.dimension == "event:goal":
        return any(_reaches(goal, event) for goal in node.values)
    value = _value(node.dimension, session, event)
    if value is None:  # an event without the property matches no "is" and no "contains"
        return node.operator.endswith("_not")
    if node.operator in ("is", "is_not"):
        hit = value in node.values
    elif node.operator in ("contains", "contains_not"):
        # Footfall's "contains" ignores case (docs/api.md); the values here make no use of it.
        hit = any(v.lower() in value.lower() for v in node.values)
    else:
        hit = any(re.search(v, value) for v in node.values)
    return not hit if node.operator.endswith("_not") else hit


def reference_visitors(tree) -> int:
    return len(
        {session[0] for session in SESSIONS for event in session[3] if _holds(tree, session, event)}
    )


def _condition(dimension: str):
    if dimension == "event:name":
        operators = ["is"]
    elif dimension == "event:props:plan":  # negations: refused (they match "(none)" too)
        operators = ["is", "is_not", "contains", "contains_not"]
    elif dimension == "event:page":
        operators = ["is", "is_not", "contains", "contains_not", "matches"]
    else:
        operators = ["is", "is_not", "contains", "contains_not"]
    values = VALUES[dimension]

    @st.composite
    def build(draw):
        operator = draw(st.sampled_from(operators))
        pool = PAGE_REGEXES if operator == "matches" else values
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
        return Condition(operator, dimension, tuple(chosen))

    return build()


CONDITION = st.sampled_from(list(VALUES)).flatmap(_condition)


GOAL_CONDITION = st.lists(st.sampled_from(sorted(GOALS)), min_size=1, max_size=2, unique=True).map(
    lambda goals: Condition("is", "event:goal", tuple(goals))
)


@st.composite
def tree_node(draw):
    kind = draw(st.sampled_from(["condition", "condition", "not", "or"]))
    if kind == "condition":
        return draw(CONDITION)
    if kind == "not":
        return Not(draw(CONDITION))
    first = draw(CONDITION)
    values = VALUES.get(first.dimension, [])
    pool = PAGE_REGEXES if first.operator == "matches" else values
    second = Condition(first.operator, first.dimension, (draw(st.sampled_from(pool)),))
    return Or((first, second))


@pytest.fixture
def dataset(db):
    owner = UserFactory()
    site = SiteFactory(hostname="oracle.example", timezone="UTC")
    SiteMembershipFactory(site=site, user=owner, role="owner")
    rows = []
    start = datetime(DAY.year, DAY.month, DAY.day, 10, tzinfo=UTC)
    for goal, (kind, target) in GOALS.items():
        Goal.objects.create(
            site=site,
            name=goal,
            event_name=target if kind == "custom" else "",
            path_pattern="" if kind == "custom" else f"^{re.escape(target)}$",
        )
    for visitor, source, country, events in SESSIONS:
        for n, (kind, name, path, props) in enumerate(events):
            fields = {"source": source, "country_code": country, "path": path, "props": props}
            if kind == "custom":
                fields["name"] = name
            rows.append(
                event_row(
                    site.pk,
                    start + timedelta(minutes=visitor * 5 + n),
                    visitor=visitor,
                    session=visitor * 10,
                    kind=kind,
                    **fields,
                )
            )
    store(rows)
    return api_client_create(user=owner, type="plausible")[1]["key"]


@hsettings(
    max_examples=120,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    children=st.lists(tree_node(), min_size=1, max_size=3),
    goal=st.one_of(st.none(), GOAL_CONDITION),
)
def test_oracle_api_visitors_equal_the_reference(client, dataset, children, goal):
    """Event and visit properties, custom properties and (top-level) goals together."""
    if goal is not None:
        children = [goal, *children]
    tree = And(tuple(children))
    try:
        to_footfall(split_goals(tree)[0])
        refused = False
    except FilterError:
        refused = True
    event("refused" if refused else "answered")
    body = {
        "site_id": "oracle.example",
        "metrics": ["visitors"],
        "date_range": [str(DAY), str(DAY)],
        "filters": render_v2(tree),
    }
    response = client.post(
        "/api/v2/query",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {dataset}",
    )
    if refused:  # a deliberate refusal, never a different number
        assert response.status_code == 400, response.json()
        return
    assert response.status_code == 200, (render_v2(tree), response.json())
    expected = reference_visitors(tree)
    assert response.json()["results"][0]["metrics"] == [expected], render_v2(tree)
    if all(
        isinstance(c, Condition) and c.operator in ("is", "is_not", "contains") for c in children
    ):
        v1 = client.get(
            "/api/v1/stats/aggregate",
            {
                "site_id": "oracle.example",
                "period": "day",
                "date": str(DAY),
                "filters": render_v1(tree),
            },
            HTTP_AUTHORIZATION=f"Bearer {dataset}",
        )
        assert v1.json() == {"results": {"visitors": {"value": expected}}}, render_v1(tree)


def test_refusals_name_the_reason():
    with pytest.raises(FilterError, match="'or' only"):
        to_footfall(
            parse_v2([["or", [["is", "event:page", ["/"]], ["is", "visit:source", ["x"]]]]])
        )
    with pytest.raises(FilterError, match="two positive filters"):
        to_footfall(parse_v1("visit:source==A;visit:source==B"))
    with pytest.raises(FilterError, match="regular expressions"):
        to_footfall(parse_v1("visit:source==Goo*"))
    with pytest.raises(FilterError, match="event:name"):
        to_footfall(parse_v1("event:name!=Signup"))
    assert to_footfall(parse_v1("visit:source==A|B;visit:source!=C;event:page==/x")) == {
        "referrer_name": ["A", "B", "!C"],
        "path": ["/x"],
    }

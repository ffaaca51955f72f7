"""Plausible's filter grammar (Stats API v1 strings and v2 lists) and its translation.

Both forms parse into one small tree (``Condition``, ``And``, ``Or``, ``Not``) that renders
back to either form, so the grammar round-trips. ``to_footfall`` turns a tree into the query
layer's filter dictionary (``stats.query.StatsQuery.filters``: values of one name are ORed,
names are ANDed, ``!``/``~``/``^`` prefixes negate or test containment). A tree that
dictionary cannot express exactly (an ``or`` across dimensions, two positive conditions on
one dimension, a regular expression off the page path) is refused with ``FilterError``:
Plausible's 400, never a different answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from stats.dimensions import PLAUSIBLE_PROPERTIES

# Plausible property → Footfall filter name (the catalogue's ``plausible`` fields).
PROPERTY_FILTERS = PLAUSIBLE_PROPERTIES
PROPS_PREFIX = "event:props:"
# Properties Plausible knows that Footfall's query layer cannot filter on.
UNSUPPORTED = frozenset(
    {"event:goal", "visit:country_name", "visit:region_name", "visit:city_name"}
)
OPERATORS = ("is", "is_not", "contains", "contains_not", "matches", "matches_not")
NEGATION = {
    "is": "is_not",
    "is_not": "is",
    "contains": "contains_not",
    "contains_not": "contains",
    "matches": "matches_not",
    "matches_not": "matches",
}
MAX_FILTERS = 50
MAX_DEPTH = 8


class FilterError(ValueError):
    """A filter Plausible or Footfall refuses: the message is the 400 body's ``error``."""


@dataclass(frozen=True)
class Condition:
    operator: str
    dimension: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class Not:
    child: object


def known_property(dimension: str) -> bool:
    return dimension in PROPERTY_FILTERS or dimension in UNSUPPORTED or _prop_name(dimension)


def _prop_name(dimension: str) -> str:
    if dimension.startswith(PROPS_PREFIX) and re.fullmatch(
        r"[A-Za-z0-9_.\- ]{1,64}", dimension[len(PROPS_PREFIX) :]
    ):
        return dimension[len(PROPS_PREFIX) :]
    return ""


# --- v1: ``visit:source==Google|Bing;event:page!=/blog**`` -----------------------------


def parse_v1(text: str) -> And:
    """A v1 filter string: ``;``-separated conditions, each ``property==a|b`` or ``!=``
    (``~`` is contains); ``*`` in an ``==``/``!=`` value is a wildcard, ``\\|`` a literal bar."""
    conditions = []
    for part in (p for p in text.split(";") if p.strip()):
        match = re.fullmatch(r"\s*([a-z_]+:[^=!~]+?)\s*(==|!=|~)\s*(.*?)\s*", part, re.S)
        if not match:
            raise FilterError(
                f"Invalid filter expression '{part}'. Use 'property==value', "
                "'property!=value' or 'property~value'."
            )
        dimension, operator, raw = match.groups()
        _check_property(dimension)
        values = tuple(v.replace("\\|", "|") for v in re.split(r"(?<!\\)\|", raw))
        if operator == "~":
            conditions.append(Condition("contains", dimension, values))
        elif any("*" in v for v in values):
            regexes = tuple(_wildcard_regex(v) for v in values)
            op = "matches" if operator == "==" else "matches_not"
            conditions.append(Condition(op, dimension, regexes))
        else:
            conditions.append(Condition("is" if operator == "==" else "is_not", dimension, values))
    if len(conditions) > MAX_FILTERS:
        raise FilterError(f"At most {MAX_FILTERS} filters are allowed.")
    return And(tuple(conditions))


def _wildcard_regex(value: str) -> str:
    """Plausible's wildcards: ``**`` any characters, ``*`` any but ``/``."""
    out = []
    for piece in re.split(r"(\*\*|\*)", value):
        if piece == "**":
            out.append(".*")
        elif piece == "*":
            out.append("[^/]*")
        else:
            out.append(re.escape(piece))
    return "^" + "".join(out) + "$"


def render_v1(tree: And) -> str:
    """The v1 string of a flat tree of ``is``/``is_not``/``contains`` conditions."""
    parts = []
    for c in tree.children:
        symbol = {"is": "==", "is_not": "!=", "contains": "~"}[c.operator]
        parts.append(c.dimension + symbol + "|".join(v.replace("|", "\\|") for v in c.values))
    return ";".join(parts)


# --- v2: ``[["is", "visit:source", ["Google"]], ["not", [...]], ["or", [...]]]`` -------


def parse_v2(filters, depth: int = 0) -> And:
    """The v2 ``filters`` list (top level ANDed)."""
    if not isinstance(filters, list):
        raise FilterError("#/filters: Invalid filters: expected a list.")
    if len(filters) > MAX_FILTERS:
        raise FilterError(f"#/filters: At most {MAX_FILTERS} filters are allowed.")
    return And(tuple(_parse_v2_one(f, depth) for f in filters))


def _parse_v2_one(item, depth: int):
    if depth > MAX_DEPTH:
        raise FilterError("#/filters: Filters are nested too deeply.")
    if not isinstance(item, list) or not item or not isinstance(item[0], str):
        raise FilterError(f"#/filters: Invalid filter {_show(item)}")
    operator = item[0]
    if operator in ("and", "or"):
        if len(item) != 2 or not isinstance(item[1], list) or not item[1]:
            raise FilterError(f"#/filters: Invalid filter {_show(item)}")
        children = tuple(_parse_v2_one(child, depth + 1) for child in item[1])
        return And(children) if operator == "and" else Or(children)
    if operator == "not":
        if len(item) != 2:
            raise FilterError(f"#/filters: Invalid filter {_show(item)}")
        return Not(_parse_v2_one(item[1], depth + 1))
    if operator not in OPERATORS:
        raise FilterError(f"#/filters: Invalid filter operator '{operator}'")
    if len(item) not in (3, 4) or not isinstance(item[1], str) or not isinstance(item[2], list):
        raise FilterError(f"#/filters: Invalid filter {_show(item)}")
    dimension = item[1]
    _check_property(dimension)
    values = item[2]
    if not values or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        raise FilterError(f"#/filters: Invalid filter {_show(item)}")
    return Condition(operator, dimension, tuple(str(v) for v in values))


def _show(item) -> str:
    return json.dumps(item)[:200]


def render_v2(node) -> list:
    if isinstance(node, And) and not isinstance(node, Or):
        return [_render_v2_one(child) for child in node.children]
    return [_render_v2_one(node)]


def _render_v2_one(node) -> list:
    if isinstance(node, Condition):
        return [node.operator, node.dimension, list(node.values)]
    if isinstance(node, Not):
        return ["not", _render_v2_one(node.child)]
    name = "and" if isinstance(node, And) else "or"
    return [name, [_render_v2_one(child) for child in node.children]]


def _check_property(dimension: str) -> None:
    if not known_property(dimension):
        raise FilterError(
            f"Invalid filter property '{dimension}'. Please provide a valid filter property: "
            "https://plausible.io/docs/stats-api#properties"
        )


# --- translation to the query layer -----------------------------------------------------


GOAL = "event:goal"


def split_goals(tree: And) -> tuple[And, list[str] | None]:
    """The tree without its goal conditions, and the goal names they name (None without a
    goal filter). Plausible filters goals at the top level only; Footfall with ``is``."""
    goals: list[str] | None = None
    rest = []
    for child in tree.children:
        if isinstance(child, Condition) and child.dimension == GOAL:
            if child.operator != "is":
                raise FilterError(
                    "Footfall filters 'event:goal' only with 'is' (v1 '==') and goal names."
                )
            goals = [*(goals or []), *child.values]
        else:
            if GOAL in _dimensions(child):
                raise FilterError(
                    "Invalid filters. Dimension `event:goal` can only be filtered at the top level."
                )
            rest.append(child)
    return And(tuple(rest)), goals


def _dimensions(node) -> set[str]:
    if isinstance(node, Condition):
        return {node.dimension}
    if isinstance(node, Not):
        return _dimensions(node.child)
    return {d for child in node.children for d in _dimensions(child)}


def filtered_dimensions(tree: And) -> set[str]:
    """Every property a filter tree names, at any depth."""
    return _dimensions(tree)


def to_footfall(tree: And) -> dict[str, list[str]]:
    """The query layer's filters for a tree, or ``FilterError`` when they would differ."""
    result: dict[str, list[str]] = {}
    positive: set[str] = set()
    for condition in _conditions(tree):
        name, values = _translate(condition)
        is_positive = all(not v.startswith(("!", "^")) for v in values)
        if name == "pattern":
            result.setdefault("pattern", []).extend(values)
            continue
        if is_positive and name in positive:
            raise FilterError(
                f"Footfall cannot combine two positive filters on '{condition.dimension}'; "
                "list the alternatives in one filter instead."
            )
        if is_positive:
            positive.add(name)
        result.setdefault(name, []).extend(values)
    return result


def _conditions(node) -> list[Condition]:
    """The tree as ANDed conditions (``not`` pushed into the operator, ``or`` merged)."""
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, And):
        return [c for child in node.children for c in _conditions(child)]
    if isinstance(node, Not):
        inner = _conditions(node.child)
        if len(inner) != 1:
            raise FilterError("Footfall supports 'not' around a single condition only.")
        c = inner[0]
        return [Condition(NEGATION[c.operator], c.dimension, c.values)]
    inner = [c for child in node.children for c in _conditions(child)]
    first = inner[0]
    if all(c.dimension == first.dimension and c.operator == first.operator for c in inner) and (
        first.operator in ("is", "contains", "matches")
    ):
        return [
            Condition(first.operator, first.dimension, tuple(v for c in inner for v in c.values))
        ]
    raise FilterError(
        "Footfall supports 'or' only between positive conditions on one property with one operator."
    )


def _translate(condition: Condition) -> tuple[str, list[str]]:
    dimension, operator, values = condition.dimension, condition.operator, condition.values
    if dimension in UNSUPPORTED:
        raise FilterError(f"Filtering by '{dimension}' is not supported by Footfall.")
    prop = _prop_name(dimension)
    name = f"meta_{prop}" if prop else PROPERTY_FILTERS[dimension]
    if prop and (operator in ("is_not", "contains_not") or "(none)" in values):
        # Plausible's negations also match events without the property ("(none)"), which
        # the query layer's ``meta_`` filters cannot express.
        raise FilterError(
            f"Footfall filters '{dimension}' only with 'is' or 'contains' and set values "
            "(Plausible's negations and '(none)' also match events without the property)."
        )
    if operator in ("matches", "matches_not"):
        if name != "path" or operator == "matches_not":
            raise FilterError(
                f"Footfall supports regular expressions and wildcards only as positive "
                f"filters on 'event:page' (not '{operator}' on '{dimension}')."
            )
        return "pattern", ["|".join(f"(?:{v})" for v in values)]
    if name == "event" and (operator != "is" or "pageview" in values):
        # Footfall's event filter reads custom events only; Plausible's names include
        # "pageview", so a negation or a substring could match page views there.
        raise FilterError(
            "Footfall filters 'event:name' only with 'is' and names of custom events."
        )
    if any(v == "" for v in values):
        raise FilterError("Footfall cannot filter on an empty value.")
    if operator == "is" and any(v.startswith(("!", "~", "^")) for v in values):
        # The query layer reads a leading !, ~ or ^ as an operator.
        raise FilterError("Footfall cannot match values starting with '!', '~' or '^' exactly.")
    prefix = {"is": "", "is_not": "!", "contains": "~", "contains_not": "^"}[operator]
    return name, [prefix + v for v in values]

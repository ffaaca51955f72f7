"""Funnel steps: parsing, validation and matching (docs/funnels.md, "Steps").

A step is a list of alternatives; an event reaches the step when it matches any of them:
- ``page``: a page view whose path equals ``path``, or matches it when it holds ``*``
  (any run of characters, ``/`` included; the whole path must match);
- ``event``: a custom event named ``name`` whose properties have every ``props`` value
  (compared as text);
- ``goal``: the site's goal ``goal`` (an id): its event name, or its path pattern (a
  regular expression on page views, as ``stats.query.goals`` matches it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.lookups import Exact

from stats import filter_values

MIN_STEPS, MAX_STEPS = 2, 8
MAX_ALTERNATIVES = 10
MAX_TEXT = 500
MIN_WINDOW, MAX_WINDOW = 60, 30 * 86_400
ACTIVITY_KINDS = ("pageview", "custom")  # what "nothing in between" counts (strict order)
_WINDOW = re.compile(r"^\s*(\d{1,7})\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


class StepError(ValueError):
    """A definition is wrong; ``field`` names the part (``steps``, ``window``…)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field, self.message = field_name, message


@dataclass(frozen=True)
class Alternative:
    type: str  # page | event | goal
    value: str  # the path, event name, or goal id
    props: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict:
        if self.type == "page":
            return {"type": "page", "path": self.value}
        if self.type == "event":
            return {"type": "event", "name": self.value, "props": dict(self.props)}
        return {"type": "goal", "goal": int(self.value)}

    def label(self) -> str:
        if self.type == "event" and self.props:
            conditions = ", ".join(f"{k}={v}" for k, v in self.props)
            return f"{self.value} ({conditions})"
        return self.value if self.type != "goal" else f"goal {self.value}"


@dataclass(frozen=True)
class Step:
    name: str
    alternatives: tuple[Alternative, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {"name": self.name, "alternatives": [a.as_json() for a in self.alternatives]}


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise StepError("steps", f"{where} must be a text of 1 to {MAX_TEXT} characters")
    if any(ord(c) < 32 for c in value):
        raise StepError("steps", f"{where} must not hold control characters")
    return value.strip()


def _alternative(raw, where: str, goal_ids: set[int]) -> Alternative:
    if not isinstance(raw, dict):
        raise StepError("steps", f"{where} must be an object")
    kind = raw.get("type")
    if kind == "page":
        path = _text(raw.get("path"), f"{where}: path")
        if not path.startswith("/") and not path.startswith("*"):
            raise StepError("steps", f"{where}: a page path starts with / or *")
        return Alternative("page", path)
    if kind == "event":
        props = raw.get("props") or {}
        if not isinstance(props, dict) or len(props) > 10:
            raise StepError("steps", f"{where}: props must be an object of at most 10 keys")
        conditions = []
        for key, value in props.items():
            try:
                filter_values.json_key(f"meta_{key}")  # the same key rule as meta filters
            except filter_values.FilterValueError as exc:
                raise StepError("steps", f"{where}: property {key!r}: {exc.message}") from exc
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise StepError("steps", f"{where}: property values are texts or numbers")
            conditions.append((key, str(value)))
        return Alternative(
            "event", _text(raw.get("name"), f"{where}: event name"), tuple(sorted(conditions))
        )
    if kind == "goal":
        goal = raw.get("goal")
        if isinstance(goal, str) and goal.isdigit():
            goal = int(goal)
        if isinstance(goal, bool) or not isinstance(goal, int) or goal not in goal_ids:
            raise StepError("steps", f"{where}: goal must be the id of one of the site's goals")
        return Alternative("goal", str(goal))
    raise StepError("steps", f"{where}: type must be page, event or goal")


def parse_steps(raw, goal_ids: set[int]) -> tuple[Step, ...]:
    """Stored or submitted steps → ``Step``s, or a ``StepError`` naming what is wrong."""
    if not isinstance(raw, list) or not MIN_STEPS <= len(raw) <= MAX_STEPS:
        raise StepError("steps", f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps")
    steps = []
    for n, item in enumerate(raw, 1):
        if isinstance(item, dict) and "alternatives" not in item and "type" in item:
            item = {"alternatives": [item]}
        if not isinstance(item, dict) or not isinstance(item.get("alternatives"), list):
            raise StepError("steps", f"step {n} must be an object with alternatives")
        alternatives = item["alternatives"]
        if not 1 <= len(alternatives) <= MAX_ALTERNATIVES:
            raise StepError("steps", f"step {n} has 1 to {MAX_ALTERNATIVES} alternatives")
        parsed = tuple(_alternative(a, f"step {n}", goal_ids) for a in alternatives)
        name = item.get("name") or " or ".join(a.label() for a in parsed)
        steps.append(Step(_text(str(name)[:MAX_TEXT], f"step {n}: name"), parsed))
    return tuple(steps)


def parse_cli_step(spec: str) -> dict:
    """``page:/pricing``, ``event:Signup``, ``event:Signup;plan=pro``, ``goal:3``, and
    alternatives joined by ``|`` (``page:/checkout|/cart``, ``page:/a|event:B``); an
    alternative without a prefix has the previous one's type."""
    alternatives = []
    kind = None
    for part in spec.split("|"):
        prefix, sep, rest = part.partition(":")
        if sep and prefix in ("page", "event", "goal"):
            kind, part = prefix, rest
        if kind is None:
            raise StepError("steps", f"{spec!r}: a step starts with page:, event: or goal:")
        if kind == "page":
            alternatives.append({"type": "page", "path": part})
        elif kind == "goal":
            alternatives.append({"type": "goal", "goal": part})
        else:
            name, *conditions = part.split(";")
            props = {}
            for condition in conditions:
                key, eq, value = condition.partition("=")
                if not eq:
                    raise StepError("steps", f"{spec!r}: a property condition is key=value")
                props[key] = value
            alternatives.append({"type": "event", "name": name, "props": props})
    return {"alternatives": alternatives}


def parse_window(value: str | int) -> int:
    """``90`` (seconds), ``30m``, ``12h``, ``1d`` → seconds within 1 minute … 30 days."""
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        match = _WINDOW.match(str(value))
        if not match:
            raise StepError("window", "window is a number with s, m, h or d (e.g. 30m, 1d)")
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not MIN_WINDOW <= seconds <= MAX_WINDOW:
        raise StepError("window", "window must be between 1 minute and 30 days")
    return seconds


def glob_regex(path: str) -> str:
    """A page path with ``*`` as an anchored regular expression both databases read alike."""
    return "^" + ".*".join(re.escape(part) for part in path.split("*")) + "$"


def alternative_q(alternative: Alternative, goals: dict[int, tuple[str, str]]) -> Q:
    """The events matching one alternative (``goals``: id → (event name, path pattern))."""
    if alternative.type == "page":
        if "*" in alternative.value:
            return Q(kind="pageview", path__regex=glob_regex(alternative.value))
        return Q(kind="pageview", path=alternative.value)
    if alternative.type == "event":
        condition = Q(kind="custom", name=alternative.value)
        for key, value in alternative.props:
            column = filter_values.json_key_column(f"meta_{key}")
            condition &= Q(Exact(column, value))
        return condition
    event_name, path_pattern = goals.get(int(alternative.value), ("", ""))
    if event_name:
        return Q(kind="custom", name=event_name)
    if path_pattern:
        return Q(kind="pageview", path__regex=path_pattern)
    return Q(pk__in=[])  # a goal deleted since: matches nothing


def step_q(step: Step, goals: dict[int, tuple[str, str]]) -> Q:
    condition = Q(pk__in=[])
    for alternative in step.alternatives:
        condition |= alternative_q(alternative, goals)
    return condition


def cli_step(step: dict) -> str:
    """A stored step as the CLI and the dashboard form write it (``parse_cli_step``)."""
    parts = []
    for alternative in step.get("alternatives", ()):
        if alternative["type"] == "page":
            parts.append(f"page:{alternative['path']}")
        elif alternative["type"] == "goal":
            parts.append(f"goal:{alternative['goal']}")
        else:
            conditions = "".join(f";{k}={v}" for k, v in alternative.get("props", {}).items())
            parts.append(f"event:{alternative['name']}{conditions}")
    return "|".join(parts)

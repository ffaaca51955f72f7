"""Checks and shapes of filter values that come straight from a request.

Filter values reach the database, so each is made safe here first (``stats.query`` calls
these from ``validate_filters`` and ``apply_filters``):

- ``pattern`` is a regular expression run by the database: PostgreSQL's (ARE) accepts
  a different language from Python's ``re`` (named groups, ``{1001}``, unknown classes), so
  a pattern is tried on the database itself (one cheap ``SELECT '' ~ %s`` in a savepoint);
  the embedded SQLite runs Python's ``re`` (Django registers ``REGEXP`` with it).
- ``meta_<key>`` and ``tag_<key>`` name a key of the event's JSON ``props``: the key is
  passed to the database as a value (``KeyTextTransform``), never parsed as an ORM path,
  and a key with ``__`` (what would have been a lookup) is refused.
- code-valued filters (country, region, language, platform, screen class) ignore case:
  their values are stored in one case, so the filter value is put in that case.
"""

from __future__ import annotations

import re
import warnings

from django.db import DatabaseError, connection, transaction
from django.db.models import Func
from django.db.models.fields.json import KeyTextTransform, KeyTransform

META_KEY = re.compile(r"[A-Za-z0-9_.\- ]{1,64}")
MAX_PATTERN_LENGTH = 1000
# filter → how its stored values are cased
CODE_CASE = {
    "country": str.upper,
    "region": str.upper,
    "language": str.lower,
    "platform": str.lower,
    "screen_class": str.upper,
}
OPERATORS = ("!", "~", "^")


class FilterValueError(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def check_pattern(pattern: str) -> None:
    """Refuse a regular expression the database would refuse (``FilterValueError``)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise FilterValueError(
            "pattern", f"pattern must be at most {MAX_PATTERN_LENGTH} characters"
        )
    try:
        with warnings.catch_warnings():  # "possible nested set": a warning, not an error
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise FilterValueError(
            "pattern", f"pattern is not a valid regular expression: {exc}"
        ) from exc
    reason = _not_portable(pattern)
    if reason:
        raise FilterValueError("pattern", f"pattern is not a valid regular expression: {reason}")
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DatabaseError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "refused by the database"
        raise FilterValueError(
            "pattern", f"pattern is not a valid regular expression: {reason}"
        ) from exc


# What PostgreSQL's regular expressions lack and Python's ``re`` has: refused on every
# database, so a filter the embedded SQLite accepts also runs (the same) on PostgreSQL.
# ``(?`` opens these groups in both; options like ``(?i)`` only at the very start.
_GROUPS = (":", "=", "!", "<=", "<!", "#")
_LEADING_OPTIONS = re.compile(r"\(\?[bceimnpqstwx]+\)")
_REPEAT = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_POSIX_CLASS = re.compile(r"\[:(\w*):\]")
_PG_CLASSES = {
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
}  # fmt: skip
_PG_MAX_REPEAT = 255
_BOUND = re.compile(r"\{\d+(?:,\d*)?\}")


def _not_portable(pattern: str) -> str:
    """Why PostgreSQL would refuse a pattern Python accepts ("" when it would not)."""
    if "\\N{" in pattern:
        return "\\N{…} escapes are not supported"
    for match in _REPEAT.finditer(pattern):
        counts = [int(n) for n in match.groups() if n]
        if any(n > _PG_MAX_REPEAT for n in counts):
            return f"repetition counts above {_PG_MAX_REPEAT} are not supported"
    for match in _POSIX_CLASS.finditer(pattern):
        if match.group(1) not in _PG_CLASSES:
            return f"unknown character class [:{match.group(1)}:]"
    return _scan(pattern)


def _scan(pattern: str) -> str:
    """Braces, possessive quantifiers and bracket elements, read as PostgreSQL reads them:
    a ``{`` before a digit always starts a bound (Python takes a bad one literally), ``*+`` is no
    quantifier there, and ``[.`` / ``[=`` inside brackets open collating elements."""
    index, in_bracket, bracket_start, after_quantifier = 0, False, 0, False
    while index < len(pattern):
        char = pattern[index]
        if in_bracket:
            if char == "\\":
                index += 2
                continue
            if char == "[" and pattern[index + 1 : index + 2] in (".", "="):
                return "collating elements [. .] and [= =] are not supported"
            if char == "]" and index > bracket_start:
                in_bracket = False
            index += 1
            continue
        if char == "+" and after_quantifier:
            return "possessive quantifiers are not supported"
        if char == "\\":
            index, after_quantifier = index + 2, False
        elif char == "(" and pattern[index + 1 : index + 2] == "?":
            if not pattern.startswith(_GROUPS, index + 2) and not (
                index == 0 and _LEADING_OPTIONS.match(pattern)
            ):
                return "(?…) groups other than (?: (?= (?! (?<= (?<! and leading options"
            index, after_quantifier = index + 2, False
        elif char == "[":
            in_bracket, after_quantifier = True, False
            bracket_start = index + 1 + (pattern[index + 1 : index + 2] == "^")
            index = bracket_start
        elif char == "{" and pattern[index + 1 : index + 2] == ",":
            return "{,n} is a bound in Python and text in PostgreSQL: write {0,n}"
        elif char == "{" and pattern[index + 1 : index + 2].isdigit():
            bound = _BOUND.match(pattern, index)
            if bound is None:
                return "a { before a digit must start a repetition bound {m}, {m,} or {m,n}"
            index, after_quantifier = bound.end(), True
        else:
            index, after_quantifier = index + 1, char in "*+?"
    return ""


def json_key(name: str) -> str | None:
    """The ``props`` key a ``meta_<key>``/``tag_<key>`` filter names (None for other
    filters); a key that is not plain text is a ``FilterValueError`` naming the filter."""
    if not name.startswith(("meta_", "tag_")):
        return None
    key = name.split("_", 1)[1]
    if not META_KEY.fullmatch(key) or "__" in key:
        raise FilterValueError(
            name,
            "meta and tag keys are 1 to 64 letters, digits, spaces, '.', '-' or single '_'",
        )
    return key


def json_key_column(name: str) -> Func:
    """The text of a meta (``props[key]``) or tag (``props["tags"][key]``) value."""
    key = json_key(name)
    if name.startswith("tag_"):
        return KeyTextTransform(key, KeyTransform("tags", "props"))
    return KeyTextTransform(key, "props")


def normalize_code(name: str, value: str) -> str:
    """``country=de`` → ``DE`` (an operator prefix kept): code-valued filters ignore case."""
    case = CODE_CASE.get(name)
    if case is None:
        return value
    if value[:1] in OPERATORS:
        return value[0] + case(value[1:])
    return case(value)

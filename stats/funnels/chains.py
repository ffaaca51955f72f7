"""Closed sequential funnels (the default mode) evaluated by PostgreSQL in one pass.

``engine.evaluate`` chooses a unit's journey among the chains entered at each allowed step-1
event. For closed sequential funnels the chain entered at the unit's *first* allowed step-1
event is the one chosen, unless the window cut it short: chains are monotone (a chain
entered later reaches every step at the same event or a later one), so when the first
chain stops because no later event matches the next step, no later entry goes further, and
on a tie the earlier entry wins. So PostgreSQL computes that chain for every unit, over the
candidate events sorted once by (unit, time, id): a window level per step takes, per unit,
the first event after the previous step's that matches the step (``min(pos) FILTER …
OVER (PARTITION BY unit)``), and the step counts when it is within the window of the entry.
Units whose chain the window cut before the last step are flagged ``cut``; the caller
evaluates those few with ``engine.evaluate`` (exact for every case).

Only per-step aggregates leave the database (counts, times to convert, revenue), plus the
cut units' keys, instead of every candidate event.

The candidate SQL (``candidates``) has the columns ``fu`` (unit), ``ft`` (the event's
time), ``fi`` (event id), ``fm`` (step bit mask), ``fo`` (the event's session passes
the filters: it may enter), ``fs`` (session), ``fv`` (visitor) and ``fr`` (revenue in the
reporting currency, or NULL).
"""

from __future__ import annotations

# Whole milliseconds of an interval, floored (exact: the epoch of an interval is numeric).
_MILLISECONDS = "floor(extract(epoch FROM {}) * 1000)::bigint"


def _micros(column: str) -> str:
    """A time as integer microseconds since the epoch (``engine``'s times)."""
    return f"(extract(epoch FROM {column}) * 1000000)::bigint"


def journeys_sql(
    candidates: str, steps: int, window: int, extra: tuple[str, ...] = ("revenue",)
) -> str:
    """One row per unit with a step-1 entry: ``u``, ``t0``…``t{n-1}`` (when each step was
    reached, NULL from the first step not reached), ``cut`` (the window stopped the first
    entry's chain: evaluate in Python), and as ``extra`` asks: ``v0``… (``revenue``: of the
    event reaching each step), ``entry_id`` (``entry``), ``visitor`` and ``session``
    (``dropped``: of the entry event, of the last step's). ``window`` in microseconds (an
    int: written into the SQL).

    The candidates are sorted once by (unit, time, id) and aggregated per unit into arrays
    in that order (a sorted subquery feeds ``array_agg`` in order, as PostgreSQL documents):
    the times, and per step whether each event matches it. Then each step's event is the
    first match after the previous step's (``array_position`` from there, in C), kept when
    it is within the window of the entry. ``OFFSET 0`` keeps each level a subquery:
    flattened, each step's expression would repeat the previous ones (exponentially)."""
    span = f"{int(window)} * interval '1 microsecond'"  # a constant, folded once
    arrays = ["array_agg(ft) AS t", "array_agg(fo AND fm & 1 <> 0) AS b0"]
    arrays += [f"array_agg(fm & {1 << k} <> 0) AS b{k}" for k in range(1, steps)]
    if "revenue" in extra:
        arrays.append("array_agg(fr) AS rv")
    if "entry" in extra:
        arrays.append("array_agg(fi) AS ids")
    if "dropped" in extra:
        arrays += ["array_agg(fs) AS ss", "array_agg(fv) AS vs"]
    level = (
        f"SELECT fu, {', '.join(arrays)} FROM "  # noqa: S608 - our SQL
        f"(SELECT * FROM ({candidates}) c ORDER BY fu, ft, fi) o GROUP BY fu OFFSET 0"
    )
    level = f"SELECT g.*, array_position(b0, true) AS p0 FROM ({level}) g OFFSET 0"  # noqa: S608
    for k in range(1, steps):
        level = (
            f"SELECT l.*, CASE WHEN p{k - 1} IS NOT NULL "  # noqa: S608
            f"THEN array_position(b{k}, true, p{k - 1} + 1) END AS q{k} FROM ({level}) l OFFSET 0"
        )
        level = (
            f"SELECT l.*, CASE WHEN t[q{k}] <= t[p0] + {span} THEN q{k} END AS p{k} "  # noqa: S608
            f"FROM ({level}) l OFFSET 0"
        )
    columns = ["fu AS u"] + [f"t[p{k}] AS t{k}" for k in range(steps)]
    cut = " OR ".join(f"coalesce(t[q{k}] > t[p0] + {span}, false)" for k in range(1, steps))
    columns.append(f"{cut or 'false'} AS cut")
    if "revenue" in extra:
        columns += [f"rv[p{k}] AS v{k}" for k in range(steps)]
    if "entry" in extra:
        columns.append("ids[p0] AS entry_id")
    if "dropped" in extra:
        last = f"coalesce({', '.join(f'p{k}' for k in reversed(range(steps)))})"
        columns += ["vs[p0] AS visitor", f"ss[{last}] AS session"]
    return f"SELECT {', '.join(columns)} FROM ({level}) l WHERE p0 IS NOT NULL"  # noqa: S608


def depth(steps: int) -> str:
    """The index of the last step a journey row reached."""
    return " + ".join(f"(t{k} IS NOT NULL)::int" for k in range(1, steps)) or "0"


def tally_sql(journeys: str, steps: int) -> str:
    """Over ``journeys_sql`` rows not cut: per step ``n{k}`` (units reaching it), ``d{k}``
    (dropped before it), ``x{k}`` (times to convert from the previous step, ms, as an array),
    ``s{k}``/``c{k}`` (revenue sum and count of events with revenue); and ``cut_units``."""
    columns = ["count(*) FILTER (WHERE NOT cut) AS n0"]
    for k in range(1, steps):
        ok = f"NOT cut AND t{k} IS NOT NULL"
        columns += [
            f"count(*) FILTER (WHERE {ok}) AS n{k}",
            f"count(*) FILTER (WHERE NOT cut AND t{k - 1} IS NOT NULL AND t{k} IS NULL) AS d{k}",
            f"array_agg({_MILLISECONDS.format(f't{k} - t{k - 1}')}) FILTER (WHERE {ok}) AS x{k}",
        ]
    for k in range(steps):
        columns += [
            f"sum(v{k}) FILTER (WHERE NOT cut) AS s{k}",
            f"count(v{k}) FILTER (WHERE NOT cut) AS c{k}",
        ]
    columns.append("array_agg(u) FILTER (WHERE cut) AS cut_units")
    return f"SELECT {', '.join(columns)} FROM ({journeys}) j"  # noqa: S608 - our SQL


def breakdown_sql(journeys: str, values: str, steps: int) -> str:
    """Units reaching each step per breakdown value of the entry event (``values``: SQL of
    ``(id, value)`` rows), journeys not cut: ``value``, ``n0``…"""
    counts = ", ".join(f"count(*) FILTER (WHERE t{k} IS NOT NULL) AS n{k}" for k in range(steps))
    return (
        f"SELECT coalesce(b.value, '') AS value, {counts} FROM ({journeys}) j "  # noqa: S608
        f"LEFT JOIN ({values}) b ON b.id = j.entry_id WHERE NOT j.cut "
        "GROUP BY coalesce(b.value, '')"
    )


def dropped_sql(journeys: str, steps: int, last: int) -> str:
    """The journeys not cut whose last step reached is ``last`` (0-based), newest first:
    ``total`` (how many), ``cut_units`` (for Python), then per row ``u``, ``visitor``,
    ``session``, ``t0`` and the last step's time (one row of NULLs when none); ``LIMIT %s``
    is the one parameter to add."""
    last = int(last)
    dropped = f"NOT cut AND {depth(steps)} = {last}"
    return (
        f"WITH j AS MATERIALIZED ({journeys}) "  # noqa: S608 - our SQL
        f"SELECT a.total, a.cut_units, d.u, d.visitor, d.session, {_micros('d.t0')}, "
        f"{_micros('d.tl')} FROM "
        f"(SELECT count(*) FILTER (WHERE {dropped}) AS total, "
        "array_agg(u) FILTER (WHERE cut) AS cut_units FROM j) a "
        f"LEFT JOIN LATERAL (SELECT u, visitor, session, t0, t{last} AS tl FROM j "
        f"WHERE {dropped} ORDER BY t{last} DESC, u LIMIT %s) d ON true"
    )


def arrays_sql(candidates: str) -> str:
    """The candidate events of the units in the array parameter added after the candidates'
    parameters, one row per unit (``engine.evaluate``'s input), ordered by (time, id)."""
    return (
        f"SELECT fu, array_agg({_micros('ft')} ORDER BY ft, fi), array_agg(fm ORDER BY ft, fi), "  # noqa: S608
        "array_agg(fi::text ORDER BY ft, fi), array_agg(fs ORDER BY ft, fi), "
        "array_agg(fv ORDER BY ft, fi), array_agg(fo ORDER BY ft, fi) "
        f"FROM ({candidates}) c WHERE fu = ANY(%s) GROUP BY fu ORDER BY fu"
    )

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

The candidate SQL (``candidates``) has the columns ``fu`` (unit), ``ft`` (time, µs since
the epoch), ``fi`` (event id), ``fm`` (step bit mask), ``fo`` (the event's session passes
the filters: it may enter), ``fs`` (session), ``fv`` (visitor) and ``fr`` (revenue in the
reporting currency, or NULL).
"""

from __future__ import annotations


def _reached(k: int, window: int) -> str:
    """The position of the event reaching step ``k`` (NULL when not reached): the first
    match after the previous step's, within the window of the entry."""
    if k == 0:
        return "q0"
    return f"(CASE WHEN r{k} <= r0 + {window} THEN q{k} END)"


def journeys_sql(candidates: str, steps: int, window: int) -> str:
    """One row per unit with a step-1 entry: ``u``, ``t0``…``t{n-1}`` (when each step was
    reached, NULL from the first step not reached), ``v0``… (the revenue of the event reaching
    each step), ``visitor`` and ``entry_id`` (of the entry event), ``session`` (of the last
    step reached), ``cut`` (the window stopped the first entry's chain: evaluate in Python).
    ``window`` in microseconds (an int: written into the SQL)."""
    window = int(window)
    level = (
        "SELECT c.*, row_number() OVER (PARTITION BY fu ORDER BY ft, fi) AS pos "  # noqa: S608 - our SQL
        f"FROM ({candidates}) c"
    )
    for k in range(steps):
        match = f"fm & {1 << k} <> 0 AND " + (
            "fo" if k == 0 else f"pos > {_reached(k - 1, window)}"
        )
        level = (
            f"SELECT l.*, min(pos) FILTER (WHERE {match}) OVER w AS q{k}, "  # noqa: S608
            f"min(ft) FILTER (WHERE {match}) OVER w AS r{k} "
            f"FROM ({level}) l WINDOW w AS (PARTITION BY fu)"
        )
    reached = [_reached(k, window) for k in range(steps)]
    times = ", ".join(
        f"min(CASE WHEN {reached[k]} IS NOT NULL THEN r{k} END) AS t{k}" for k in range(steps)
    )
    revenue = ", ".join(f"min(fr) FILTER (WHERE pos = {reached[k]}) AS v{k}" for k in range(steps))
    cut = " OR ".join(f"r{k} > r0 + {window}" for k in range(1, steps))
    last = f"coalesce({', '.join(reversed(reached))})"
    return (
        f"SELECT fu AS u, {times}, {revenue}, "  # noqa: S608
        "min(fv) FILTER (WHERE pos = q0) AS visitor, "
        "(array_agg(fi) FILTER (WHERE pos = q0))[1] AS entry_id, "
        f"min(fs) FILTER (WHERE pos = {last}) AS session, "
        f"coalesce(bool_or({cut}), false) AS cut "
        f"FROM ({level}) l WHERE q0 IS NOT NULL AND pos IN ({', '.join(reached)}) GROUP BY fu"
    )


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
            f"array_agg((t{k} - t{k - 1}) / 1000) FILTER (WHERE {ok}) AS x{k}",
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
        "SELECT a.total, a.cut_units, d.u, d.visitor, d.session, d.t0, d.tl FROM "
        f"(SELECT count(*) FILTER (WHERE {dropped}) AS total, "
        "array_agg(u) FILTER (WHERE cut) AS cut_units FROM j) a "
        f"LEFT JOIN LATERAL (SELECT u, visitor, session, t0, t{last} AS tl FROM j "
        f"WHERE {dropped} ORDER BY t{last} DESC, u LIMIT %s) d ON true"
    )


def arrays_sql(candidates: str) -> str:
    """The candidate events of the units in the array parameter added after the candidates'
    parameters, one row per unit (``engine.evaluate``'s input), ordered by (time, id)."""
    return (
        "SELECT fu, array_agg(ft ORDER BY ft, fi), array_agg(fm ORDER BY ft, fi), "  # noqa: S608
        "array_agg(fi::text ORDER BY ft, fi), array_agg(fs ORDER BY ft, fi), "
        "array_agg(fv ORDER BY ft, fi), array_agg(fo ORDER BY ft, fi) "
        f"FROM ({candidates}) c WHERE fu = ANY(%s) GROUP BY fu ORDER BY fu"
    )

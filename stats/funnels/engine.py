"""The funnel evaluation for one unit (a visitor or a session): its step-matching events in
time order → the journey it made (docs/funnels.md, "How a journey is chosen").

Rows are ``(time, mask, allowed)`` tuples (time in integer microseconds since the epoch,
so comparing and subtracting is exact and cheap), ordered by time then event id; bit ``i`` of
``mask`` says the event matches step ``i``; ``allowed`` says the event's session passes the
query's filters (first-touch attribution: only such an event may enter the funnel). For
strict order the rows are *all* the unit's activity events (page views and custom events,
``steps.ACTIVITY_KINDS``), most with mask 0, so "nothing in between" is "the next row".

The journey kept is the one that reaches the furthest step; then (open funnels) the one
entering at the earliest step; then the one whose events come first. For sequential and
strict order each step after the entry is reached by the earliest event that can reach it,
which is also what makes the first two rules exact (greedy earliest matching is optimal
when the window is measured from the entry). ``tests/stats/test_funnels_oracle.py`` checks
this against a reference that enumerates every candidate journey.
"""

from __future__ import annotations

from dataclasses import dataclass

Row = tuple[int, int, bool]
SCAN_LIMIT = 32  # units with more rows get a "next row reaching step k" table


@dataclass(frozen=True)
class Journey:
    first: int  # the step entered (0 unless the funnel is open)
    last: int  # the furthest step reached
    reached: tuple[int, ...]  # row index reaching each step first..last
    reached_at: tuple[int, ...]  # when each step first..last was reached (µs)


def evaluate(rows: list[Row], steps: int, order: str, window: int, open_: bool) -> Journey | None:
    """``window`` in microseconds."""
    if order == "any":
        return _any_order(rows, steps, window)
    return _in_order(rows, steps, order == "strict", window, open_)


def _in_order(
    rows: list[Row], steps: int, strict: bool, window: int, open_: bool
) -> Journey | None:
    # following[k][i]: first row ≥ i reaching step k
    following = _following(rows, steps) if not strict and len(rows) > SCAN_LIMIT else []
    best: tuple | None = None
    best_path: list[int] = []
    best_first = 0
    for start, (at, mask, allowed) in enumerate(rows):
        if not allowed or not mask:
            continue
        for first in range(steps) if open_ else (0,):
            if not mask >> first & 1:
                continue
            path = _walk(rows, steps, strict, following, start, first, at + window)
            key = (first + len(path) - 1, -first)
            if best is None or key > best:
                best, best_path, best_first = key, path, first
        if best == (steps - 1, 0):
            break  # nothing can beat a complete journey entered at step 1 earlier
    if best is None:
        return None
    return Journey(
        best_first,
        best[0],
        tuple(best_path),
        tuple(rows[i][0] for i in best_path),
    )


def _following(rows: list[Row], steps: int) -> list[list[int]]:
    """Per step k, per row i: the first row ≥ i reaching step k (``len(rows)`` if none)."""
    n = len(rows)
    following: list[list[int]] = []
    for k in range(steps):
        column = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            column[i] = i if rows[i][1] >> k & 1 else column[i + 1]
        following.append(column)
    return following


def _walk(
    rows: list[Row],
    steps: int,
    strict: bool,
    following: list[list[int]],
    start: int,
    first: int,
    limit: int,
) -> list[int]:
    """The rows reaching step ``first`` (row ``start``), then each next step by the
    earliest row that can, up to ``limit`` (µs)."""
    n = len(rows)
    path = [start]
    step = first
    while step + 1 < steps:
        if strict:
            nxt = path[-1] + 1
            if nxt >= n or not rows[nxt][1] >> (step + 1) & 1:
                break
        elif following:
            nxt = following[step + 1][path[-1] + 1]
            if nxt >= n:
                break
        else:  # small units: scanning is cheaper than building the table
            bit = 1 << (step + 1)
            nxt = path[-1] + 1
            while nxt < n and not rows[nxt][1] & bit:
                nxt += 1
            if nxt >= n:
                break
        if rows[nxt][0] > limit:
            break
        path.append(nxt)
        step += 1
    return path


def _matching(wanted: list[int], candidates: list[int], rows: list[Row]) -> dict[int, int] | None:
    """Distinct rows among ``candidates`` for every step of ``wanted`` (Kuhn's augmenting
    paths; at most eight steps), as step → row, or None."""
    owner: dict[int, int] = {}  # row → step

    def augment(step: int, seen: set[int]) -> bool:
        for row in candidates:
            if rows[row][1] >> step & 1 and row not in seen:
                seen.add(row)
                if row not in owner or augment(owner[row], seen):
                    owner[row] = step
                    return True
        return False

    for step in wanted:
        if not augment(step, set()):
            return None
    return {step: row for row, step in owner.items()}


def _any_order(rows: list[Row], steps: int, window: int) -> Journey | None:
    best: tuple[int, int, list[int]] | None = None  # (last step, start, window rows)
    for start, (at, mask, allowed) in enumerate(rows):
        if not allowed or not mask:
            continue
        limit = at + window
        inside = [i for i in range(start + 1, len(rows)) if rows[i][0] <= limit and rows[i][1]]
        for last in range(steps - 1, -1, -1):
            if best is not None and last <= best[0]:
                break
            # The entry row must be one of the journey's events, matching some step ≤ last.
            if any(
                mask >> step & 1
                and _matching([s for s in range(last + 1) if s != step], inside, rows) is not None
                for step in range(last + 1)
            ):
                best = (last, start, [start, *inside])
                break
        if best is not None and best[0] == steps - 1:
            break
    if best is None:
        return None
    last, _start, inside = best
    reached, prefix = [], []
    rows_iter = iter(inside)
    for step in range(last + 1):
        # When steps 0..step were all done: the shortest prefix of the window's rows.
        while _matching(list(range(step + 1)), prefix, rows) is None:
            prefix.append(next(rows_iter))
        reached.append(prefix[-1])
    matched = _matching(list(range(last + 1)), prefix, rows) or {}
    return Journey(
        0,
        last,
        tuple(matched.get(step, reached[step]) for step in range(last + 1)),
        tuple(rows[i][0] for i in reached),
    )

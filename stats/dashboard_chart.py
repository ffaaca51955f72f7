"""The dashboard's visitors chart: points per day, hour, week or month (with the previous
period's overlay) and the SVG geometry and labels the template draws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from stats import query as q

if TYPE_CHECKING:
    from stats.dashboard import DashboardState


@dataclass
class ChartPoint:
    label: str
    long_label: str
    visitors: int
    views: int
    previous_visitors: int | None = None
    x: float = 0
    y_visitors: float = 0
    y_views: float = 0
    y_previous: float = 0


WIDTH, HEIGHT = 800, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 28, 12, 28


def _nice_max(value: int) -> int:
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        candidate = int(step * magnitude)
        if candidate >= value:
            return candidate
    return value


def _bucket_start(day: date, scale: str) -> date:
    if scale == "week":
        return day - timedelta(days=day.weekday())
    if scale == "month":
        return day.replace(day=1)
    return day


def _buckets(days: list[date], per_day: dict, scale: str) -> list[tuple[date, int, int]]:
    """Visitors (summed daily uniques, as everywhere) and views per bucket, in order."""
    buckets: dict[date, list[int]] = {}
    for day in days:
        metrics = per_day.get(day, {})
        bucket = buckets.setdefault(_bucket_start(day, scale), [0, 0])
        bucket[0] += metrics.get("visitors", 0)
        bucket[1] += metrics.get("views", 0)
    return [(start, visitors, views) for start, (visitors, views) in buckets.items()]


def series_points(
    state: DashboardState,
    site_id: int,
    current_days: dict | None = None,
    previous_days: dict | None = None,
) -> list[ChartPoint]:
    """Visitors and views per bucket (hour, day, week or month), with the previous period.

    Days, weeks and months are summed from ``stats.query.daily_metrics`` (passed in when the
    caller already read them for the KPIs, so a page reads each period once); hours come
    from ``stats.query.hours``.
    """
    stats_query = state.query(site_id)
    points: list[ChartPoint] = []
    if state.scale == "hour":
        previous = q.hours(stats_query.previous()) if state.compare else None
        for index, row in enumerate(q.hours(stats_query)):
            points.append(
                ChartPoint(
                    label=f"{row['hour']:02d}:00",
                    long_label=f"{state.first_day:%a %-d %b} {row['hour']:02d}:00",
                    visitors=row["visitors"],
                    views=row["views"],
                    previous_visitors=previous[index]["visitors"] if previous else None,
                )
            )
        return points
    if current_days is None:
        current_days = q.daily_metrics(stats_query)
    current = _buckets(stats_query.days(), current_days, state.scale)
    previous = None
    if state.compare:
        previous_query = stats_query.previous()
        if previous_days is None:
            previous_days = q.daily_metrics(previous_query)
        previous = _buckets(previous_query.days(), previous_days, state.scale)
    for index, (start, visitors, views) in enumerate(current):
        if state.scale == "month":
            label, long_label = f"{start:%b %Y}", f"{start:%B %Y}"
        elif state.scale == "week":
            label, long_label = f"{start:%-d %b}", f"Week of {start:%a %-d %b %Y}"
        else:
            label, long_label = f"{start:%-d %b}", f"{start:%a %-d %b %Y}"
        prev = previous[index][1] if previous is not None and index < len(previous) else None
        points.append(ChartPoint(label, long_label, visitors, views, prev))
    return points


def chart(points: list[ChartPoint]) -> dict:
    """Geometry for the inline SVG: polylines, grid lines and a few x labels."""
    peak = max([0] + [max(p.visitors, p.views, p.previous_visitors or 0) for p in points])
    top = _nice_max(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = len(points)
    for index, point in enumerate(points):
        point.x = round(LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2), 1)
        point.y_visitors = round(TOP + plot_h * (1 - point.visitors / top), 1)
        point.y_views = round(TOP + plot_h * (1 - point.views / top), 1)
        point.y_previous = round(TOP + plot_h * (1 - (point.previous_visitors or 0) / top), 1)
    every = max(1, -(-count // 8))
    baseline = TOP + plot_h
    visitors_line = " ".join(f"{p.x},{p.y_visitors}" for p in points)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": baseline,
        "label_y": HEIGHT - 8,
        "grid": [
            {"y": round(TOP + plot_h * (1 - i / 4), 1), "value": int(top * i / 4)} for i in range(5)
        ],
        "visitors": visitors_line,
        "area": f"{points[0].x},{baseline} {visitors_line} {points[-1].x},{baseline}"
        if points
        else "",
        "views": " ".join(f"{p.x},{p.y_views}" for p in points),
        "previous": " ".join(f"{p.x},{p.y_previous}" for p in points)
        if points and points[0].previous_visitors is not None
        else "",
        "x_labels": [p for i, p in enumerate(points) if i % every == 0],
        "dots": count <= 62,
    }

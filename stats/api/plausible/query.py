"""Plausible Stats API requests (v1 parameters, v2 JSON) → Footfall's query layer and back.

The steps, top to bottom: the period (``periods.resolve_period``: Plausible's period names
in the site's calendar, capped by ``stats.ranges``), the filters (``filters.to_footfall``), the
metrics (``check_metrics``: Plausible's own refusals, then what Footfall cannot answer
exactly), then one read of ``stats.query`` per question (``aggregate``, ``series``,
``breakdown_rows``). Numbers follow Footfall's definitions (docs/statistics.md): visitors of
a range are the sum of each day's visitors, as everywhere in Footfall.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pycountry

from sites.selectors import site_reporting_currency
from stats import query as q
from stats import revenue as money
from stats.api.plausible import events as ev
from stats.api.plausible.errors import PlausibleError
from stats.api.plausible.filters import (
    PROPS_PREFIX,
    FilterError,
    filtered_dimensions,
    split_goals,
    to_footfall,
)
from stats.api.plausible.periods import month_end
from stats.models import Goal, Import
from stats.query.sources import imported
from stats.selectors import public

METRICS = (
    "visitors",
    "visits",
    "pageviews",
    "views_per_visit",
    "bounce_rate",
    "visit_duration",
    "events",
    "conversion_rate",
    "time_on_page",
)
# v2 only: revenue of the revenue goals' conversions (``revenue_metrics``).
REVENUE_METRICS = ("total_revenue", "average_revenue")
REVENUE_WARNING = {
    "code": "no_revenue_goals_matching",
    "warning": "Revenue metrics are null as there are no matching revenue goals.",
}
SESSION_METRICS = ("visits", "bounce_rate", "visit_duration", "views_per_visit")
# Plausible v2's session-only metrics (``TableDecider``: visits may come from either table).
V2_SESSION_METRICS = ("bounce_rate", "visit_duration", "views_per_visit")
# Session metrics Footfall cannot answer under an event-only filter (its reads would count
# the sessions' other events too).
FOOTFALL_SESSION_METRICS = ("bounce_rate", "visit_duration", "views_per_visit")
EVENT_BREAKDOWNS = ("event:page", "event:name", "event:goal")
EVENT_BREAKDOWN_METRICS = ("visitors", "visits", "pageviews", "events", "conversion_rate")
VISIT_BREAKDOWN_METRICS = ("visitors", "visits", "pageviews")
# ``events.event_counts`` field per Plausible metric.
COUNT_FIELDS = {
    "visitors": "visitors",
    "visits": "visits",
    "pageviews": "pageviews",
    "events": "events",
}
PAGE_GOAL_PREFIX = "Visit "
GOALS_DOCS = (
    "Find out how to configure goals here: https://plausible.io/docs/stats-api#filtering-by-goals"
)
EVENT_ONLY = ("event:name", "event:goal")
# Breakdown property → (query-layer dimension, its value column, the v1 result key).
BREAKDOWNS = {
    "event:page": ("page", "path", "page"),
    "visit:entry_page": ("entry", "entry_path", "entry_page"),
    "visit:exit_page": ("exit", "path", "exit_page"),
    "visit:source": ("referrer", "source", "source"),
    "visit:referrer": ("referrer", "referrer", "referrer"),
    "visit:channel": ("channel", "channel", "channel"),
    "visit:utm_source": ("utm_source", "utm_source", "utm_source"),
    "visit:utm_medium": ("utm_medium", "utm_medium", "utm_medium"),
    "visit:utm_campaign": ("utm_campaign", "utm_campaign", "utm_campaign"),
    "visit:utm_content": ("utm_content", "utm_content", "utm_content"),
    "visit:utm_term": ("utm_term", "utm_term", "utm_term"),
    "visit:device": ("platform", "device_type", "device"),
    "visit:browser": ("browser", "browser", "browser"),
    "visit:browser_version": ("browser_version", "browser_version", "browser_version"),
    "visit:os": ("os", "os", "os"),
    "visit:os_version": ("os_version", "os_version", "os_version"),
    "visit:country": ("country", "country_code", "country"),
    "visit:region": ("region", "region", "region"),
    "visit:city": ("city", "city", "city"),
    "visit:screen": ("screen", "screen_class", "screen"),
    "event:name": ("event", "name", "name"),
}
# What the per-value rows of ``stats.query.breakdown`` hold, per Plausible metric.
BREAKDOWN_METRICS = {"visitors": "visitors", "visits": "sessions", "pageviews": "views"}
# Dimensions ``stats.query.groups`` answers (several at once, or one visit property with the
# metrics the breakdown tables lack): property → event column. The exit page is not an
# event column (the session's last page view), so it stays a breakdown of its own.
GROUP_COLUMNS = {
    prop: column for prop, (dimension, column, _key) in BREAKDOWNS.items() if dimension != "exit"
}
# v2's location names: the stored code's name (a city is stored by name already).
NAMED_DIMENSIONS = {
    "visit:country_name": "country_code",
    "visit:region_name": "region",
    "visit:city_name": "city",
}
GROUP_COLUMNS.update(NAMED_DIMENSIONS)
GROUP_METRICS = ("visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration")
# Metrics of a visit-property breakdown that only ``stats.query.groups`` answers.
GROUPED_VISIT_METRICS = ("bounce_rate", "visit_duration", "events")
# The events a grouped question counts, by its event dimension: Footfall's page breakdown
# counts page views; Plausible's ``event:name`` lists page views ("pageview") and custom
# events. Without an event dimension: every event, as visitors and visits are counted
# everywhere in Footfall.
GROUP_KINDS = {"event:page": ("pageview",), "event:name": ("pageview", "custom")}
BREAKDOWN_DOCS = "https://plausible.io/docs/stats-api#properties"
REALTIME_SECONDS = 300  # Plausible's "current visitors": the last five minutes


# --- the query ---------------------------------------------------------------------------


@dataclasses.dataclass
class Request:
    """One Plausible question about one site."""

    stats: q.StatsQuery
    metrics: list[str]
    filter_properties: list[str]
    dimension: str | None = None  # a breakdown property or a ``time:*`` dimension
    goals: list[Goal] | None = None  # the goals of an ``event:goal`` filter
    v2: bool = False
    # v2's dimensions when there are several (``dimension`` is then None).
    dimensions: tuple[str, ...] = ()

    @property
    def breakdown(self) -> str | None:
        """The breakdown property (None for aggregates and time series)."""
        if self.dimension is None or self.dimension.startswith("time"):
            return None
        return self.dimension

    @property
    def all_dimensions(self) -> tuple[str, ...]:
        return self.dimensions or ((self.dimension,) if self.dimension else ())

    @property
    def grouped(self) -> bool:
        """Answered by ``stats.query.groups``: several dimensions, or a visit property with
        a metric the breakdown tables lack (bounce rate, visit duration, events)."""
        if len(self.all_dimensions) > 1:
            return True
        prop = self.breakdown or ""
        return prop in NAMED_DIMENSIONS or (
            prop.startswith("visit:")
            and prop in GROUP_COLUMNS
            and any(m in GROUPED_VISIT_METRICS for m in self.metrics)
        )


def stats_query(
    site, first: date, last: date, tree, *, v2: bool = False, imports: bool = False
) -> tuple[q.StatsQuery, list[str], list[Goal] | None]:
    """The ``StatsQuery``, the filtered properties (for the metric checks) and the goals of
    a goal filter (Plausible's 400 when one is not configured)."""
    try:
        rest, goal_names = split_goals(tree)
        filters = q.validate_filters(to_footfall(rest))
    except FilterError as exc:
        raise PlausibleError(str(exc)) from exc
    except q.QueryError as exc:
        raise PlausibleError(f"Invalid filter: {exc.message}") from exc
    goals = None if goal_names is None else _goals(site, goal_names, v2=v2)
    properties = sorted(filtered_dimensions(tree))
    return (
        q.StatsQuery(
            site_id=site.pk,
            first_day=first,
            last_day=last,
            tz=site.timezone,
            filters=filters,
            imports=imports,
        ),
        properties,
        goals,
    )


def _goals(site, names: list[str], *, v2: bool) -> list[Goal]:
    configured = {goal.name: goal for goal in Goal.objects.filter(site=site)}
    for name in names:
        if name not in configured:
            if not v2 and name.startswith(PAGE_GOAL_PREFIX):
                lead = (
                    f"The pageview goal for the pathname `{name[len(PAGE_GOAL_PREFIX) :]}` "
                    "is not configured for this site. "
                )
            else:
                lead = f"The goal `{name}` is not configured for this site. "
            raise PlausibleError(lead + GOALS_DOCS)
    return [configured[name] for name in dict.fromkeys(names)]


def parse_metrics(raw: str | list) -> list[str]:
    metrics = raw.split(",") if isinstance(raw, str) else list(raw)
    metrics = [m.strip() if isinstance(m, str) else m for m in metrics]
    if len(metrics) != len(set(map(str, metrics))):
        raise PlausibleError("Metrics cannot be queried multiple times.")
    for metric in metrics:
        if metric not in METRICS:
            raise PlausibleError(
                f"The metric `{metric}` is not recognized. Find valid metrics from the "
                "documentation: https://plausible.io/docs/stats-api#metrics"
            )
    return metrics


def _event_only(prop: str) -> bool:
    return prop in EVENT_ONLY or prop.startswith(PROPS_PREFIX)


def check_metrics(request: Request) -> None:
    """Plausible's own refusals first (its messages, v1's or v2's), then what Footfall
    cannot answer exactly (a 400 naming Footfall, never a different number). Revenue
    metrics are read on their own (``revenue_values``): the rest is checked without them."""
    _check_revenue(request)
    request = without_revenue(request)
    if request.v2:
        _check_v2(request)
    else:
        _check_v1(request)
    _check_footfall(request)


def without_revenue(request: Request) -> Request:
    """The question without its revenue metrics (``visitors`` when they were all it asked:
    the rows a dimension has are those with visitors)."""
    metrics = [m for m in request.metrics if m not in REVENUE_METRICS] or ["visitors"]
    return dataclasses.replace(request, metrics=metrics)


def _check_revenue(request: Request) -> None:
    if not any(m in REVENUE_METRICS for m in request.metrics):
        return
    dims = request.all_dimensions
    for dimension in dims:
        if dimension == "event:goal" and len(dims) == 1:
            continue
        if not dimension.startswith("time") and dimension not in GROUP_COLUMNS:
            raise PlausibleError(
                "Footfall answers revenue metrics by event:goal alone, or by visit properties "
                f"(but visit:exit_page), event:page, event:name and time (not `{dimension}`)."
            )


def revenue_goals(request: Request) -> list[Goal]:
    """Plausible's revenue goals of the question: those of its ``event:goal`` filter, else
    all the site's goals, that have revenue. In Footfall every custom-event goal does:
    revenue arrives with custom events and is stored converted into the site's reporting
    currency (one currency per site); a page goal never has any."""
    goals = request.goals
    if goals is None:
        goals = list(Goal.objects.filter(site_id=request.stats.site_id).order_by("pk"))
    return [goal for goal in goals if goal.event_name]


def revenue_values(
    request: Request, interval: str | None
) -> tuple[dict[tuple, money.Revenue] | None, str]:
    """Revenue per row label (the row's dimension values in the request's order, a time
    dimension as its bucket) and the currency; None without revenue goals (the metrics are
    then null, with Plausible's warning). By ``event:goal`` a goal without revenue has no
    entry (its row's metrics are null); by any other dimension a row without conversions
    has zero revenue."""
    currency = site_reporting_currency(request.stats.site_id)
    goals = revenue_goals(request)
    if not goals:
        return None, currency
    query = request.stats
    if request.all_dimensions == ("event:goal",):
        return {
            (goal.name,): money.revenue_total(query, where=ev.goal_target(goal), currency=currency)
            for goal in goals
        }, currency
    columns = tuple(
        ("hour" if interval == "hour" else "day") if d.startswith("time") else GROUP_COLUMNS[d]
        for d in request.all_dimensions
    )
    by_value = money.revenue_by_columns(
        query, columns, where=ev.goals_target(goals), currency=currency
    )
    labelled: dict[tuple, money.Revenue] = defaultdict(lambda: money.Revenue(currency))
    for key, amount in by_value.items():
        label = tuple(
            _bucket_of(value, interval or "day") if column == "day" else location_name(d, value)
            for d, column, value in zip(request.all_dimensions, columns, key, strict=True)
        )
        labelled[label] = labelled[label].add(amount.total, amount.conversions)
    return dict(labelled), currency


SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$"}
SHORT_SCALES = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"))


def revenue_metric(amount: Decimal | None, currency: str) -> dict:
    """Plausible's revenue value: ``{"short", "value", "long", "currency"}`` (no amount
    counts as 0, as Plausible's)."""
    amount = (amount or Decimal(0)).quantize(money.CENT)
    symbol = SYMBOLS.get(currency, f"{currency}\u00a0")
    sign = "-" if amount < 0 else ""
    size = abs(amount)
    short = f"{size:,.1f}"
    for scale, suffix in (*SHORT_SCALES, (Decimal(1000), "K")):
        if size >= scale:
            short = f"{size / scale:.1f}{suffix}"
            break
    return {
        "short": f"{sign}{symbol}{short}",
        "value": float(amount),
        "long": f"{sign}{symbol}{size:,.2f}",
        "currency": currency,
    }


def with_revenue(
    request: Request, labelled_rows: list[tuple[tuple, dict]], interval: str | None
) -> tuple[list[tuple[tuple, dict]], dict]:
    """The rows with the request's revenue metrics added (by their labels) and the metric
    warnings for ``meta``."""
    wanted = [m for m in request.metrics if m in REVENUE_METRICS]
    if not wanted:
        return labelled_rows, {}
    lookup, currency = revenue_values(request, interval)
    by_goal = request.all_dimensions == ("event:goal",)
    for label, values in labelled_rows:
        amount = None if lookup is None else lookup.get(label)
        if amount is None and lookup is not None and not by_goal:
            amount = money.Revenue(currency)
        for metric in wanted:
            if amount is None:
                values[metric] = None
            elif metric == "total_revenue":
                values[metric] = revenue_metric(amount.total, currency)
            else:
                values[metric] = revenue_metric(amount.average, currency)
    warnings = {metric: dict(REVENUE_WARNING) for metric in wanted} if lookup is None else {}
    return labelled_rows, warnings


def _check_v1(request: Request) -> None:
    """``ExternalStatsController.validate_metric``: the first metric refused wins."""
    dims = [request.breakdown] if request.breakdown else []
    props = request.filter_properties
    for metric in request.metrics:
        if metric == "time_on_page":
            if request.goals is not None:
                raise PlausibleError(
                    f"Metric `{metric}` cannot be queried when filtering by `event:goal`"
                )
            if "event:name" in props:
                raise PlausibleError(
                    f"Metric `{metric}` cannot be queried when filtering by `event:name`"
                )
            if dims == ["event:page"]:
                continue
            if dims:
                raise PlausibleError(
                    f"Metric `{metric}` is not supported in breakdown queries (except "
                    "`event:page` breakdown)"
                )
            if "event:page" not in props:
                raise PlausibleError(
                    f"Metric `{metric}` can only be queried in a page breakdown or with a page "
                    "filter."
                )
        elif metric == "conversion_rate":
            if dims != ["event:goal"] and request.goals is None:
                raise PlausibleError(
                    f"Metric `{metric}` can only be queried in a goal breakdown or with a goal "
                    "filter"
                )
        elif metric == "views_per_visit":
            if "event:page" in props:
                raise PlausibleError(
                    f"Metric `{metric}` cannot be queried with a filter on `event:page`."
                )
            if dims:
                raise PlausibleError(f"Metric `{metric}` is not supported in breakdown queries.")
            _check_v1_session(metric, dims, props)
        elif metric in ("visits", "bounce_rate", "visit_duration"):
            _check_v1_session(metric, dims, props)


def _check_v1_session(metric: str, dims: list[str], props: list[str]) -> None:
    if len(dims) == 1 and _event_only(dims[0]):
        raise PlausibleError(
            f"Session metric `{metric}` cannot be queried for breakdown by `{dims[0]}`."
        )
    event_only = [p for p in props if _event_only(p)]
    if event_only:
        raise PlausibleError(
            f"Session metric `{metric}` cannot be queried when using a filter on `{event_only[0]}`."
        )


def _check_v2(request: Request) -> None:
    """``QueryParser.validate_metrics``: each metric, then session metrics against event
    dimensions (``event:page`` aside)."""
    dims = list(request.all_dimensions)
    props = request.filter_properties
    for metric in request.metrics:
        if metric == "conversion_rate" and "event:goal" not in dims and request.goals is None:
            raise PlausibleError(
                f"Metric `{metric}` can only be queried with event:goal filters or dimensions."
            )
        if metric == "views_per_visit":
            if "event:page" in props:
                raise PlausibleError(
                    f"Metric `{metric}` cannot be queried with a filter on `event:page`."
                )
            if dims:
                raise PlausibleError(f"Metric `{metric}` cannot be queried with `dimensions`.")
    session = [m for m in request.metrics if m in V2_SESSION_METRICS]
    if session and any(d.startswith("event:") and d != "event:page" for d in dims):
        raise PlausibleError(
            f"Session metric(s) `{', '.join(session)}` cannot be queried along with event "
            "dimensions."
        )


def _check_footfall(request: Request) -> None:
    """What Footfall's reads cannot answer exactly (Plausible answers these)."""
    breakdown = request.breakdown
    props = request.filter_properties
    event_only = [p for p in props if _event_only(p) and p != "event:goal"]
    for metric in request.metrics:
        if metric == "time_on_page" and breakdown != "event:page" and "event:page" not in props:
            raise PlausibleError(
                "Metric `time_on_page` can only be queried with event:page filters or dimensions."
            )
        if metric == "time_on_page" and request.goals is not None:
            raise PlausibleError(
                "Metric `time_on_page` cannot be queried when filtering by `event:goal`"
            )
        if metric in FOOTFALL_SESSION_METRICS and (event_only or request.goals is not None):
            prop = event_only[0] if event_only else "event:goal"
            raise PlausibleError(
                f"Session metric `{metric}` cannot be queried when using a filter on `{prop}`."
            )
    if request.grouped:
        _check_grouped(request)
        return
    if breakdown is None:
        return
    if breakdown in EVENT_BREAKDOWNS or breakdown.startswith(PROPS_PREFIX):
        supported = EVENT_BREAKDOWN_METRICS
        if breakdown == "event:page" and request.goals is None:
            supported = (*supported, "time_on_page")
    elif request.goals is not None:
        raise PlausibleError(
            f"Footfall answers a goal filter in breakdowns by event:goal, event:name, "
            f"event:page or event:props only (not `{breakdown}`)."
        )
    else:
        supported = VISIT_BREAKDOWN_METRICS
        if breakdown == "visit:exit_page":
            supported = ("visitors", "visits")
    for metric in request.metrics:
        if metric not in supported:
            raise PlausibleError(
                f"Metric `{metric}` is not supported by Footfall in a breakdown by "
                f"`{breakdown}` (supported: {', '.join(supported)})."
            )


def _check_grouped(request: Request) -> None:
    """What ``stats.query.groups`` cannot answer exactly (a 400 naming Footfall)."""
    dims = request.all_dimensions
    times = [d for d in dims if d.startswith("time")]
    if len(times) > 1:
        raise PlausibleError("Footfall answers at most one time dimension per query.")
    for dimension in dims:
        if not dimension.startswith("time") and dimension not in GROUP_COLUMNS:
            raise PlausibleError(
                "Footfall answers several dimensions together for visit properties (but "
                "visit:exit_page), event:page, event:name and time only (not "
                f"`{dimension}`)."
            )
    if request.goals is not None:
        raise PlausibleError(
            "Footfall answers a goal filter in breakdowns by event:goal, event:name, "
            f"event:page or event:props only (not `{', '.join(dims)}`)."
        )
    supported: tuple[str, ...] = GROUP_METRICS
    if "event:page" in dims:  # page views only: no session metric, events are views
        supported = ("visitors", "visits", "pageviews")
    for metric in request.metrics:
        if metric not in supported:
            raise PlausibleError(
                f"Metric `{metric}` is not supported by Footfall in a breakdown by "
                f"`{', '.join(dims)}` (supported: {', '.join(supported)})."
            )


def location_name(dimension: str, value):
    """A row's value of ``dimension``: a country's or region's name for v2's
    ``visit:country_name``/``visit:region_name`` (its code when it has none), else as
    stored (``""`` for none)."""
    if not value:
        return ""
    if dimension == "visit:country_name":
        return public.country_name(value) or value
    if dimension == "visit:region_name":
        region = pycountry.subdivisions.get(code=value)
        return region.name if region else value
    return value


def grouped_rows(request: Request, interval: str | None) -> list[tuple[tuple, dict]]:
    """(dimension values, {metric: value}) per combination of the request's dimensions
    with events, from ``stats.query.groups``: the time dimension's label (a day, a month's
    first day or an hour, by ``interval``) and each property's value, in the request's
    order; visitors and visits summed over days, as everywhere. Ordered by the first
    metric, descending, then the values (Plausible's default)."""
    dims = request.all_dimensions
    hourly = interval == "hour"
    columns = tuple(
        "hour" if d.startswith("time") else GROUP_COLUMNS[d]
        for d in dims
        if not d.startswith("time") or hourly
    )
    kinds = next((GROUP_KINDS[d] for d in GROUP_KINDS if d in dims), None)
    summed: dict[tuple, q.GroupMetrics] = {}
    for day, values in q.groups(request.stats, columns, kinds).items():
        for key, metrics in values.items():
            found = iter(key)
            label = tuple(
                (next(found) if hourly else _bucket_of(day, interval or "day"))
                if d.startswith("time")
                else location_name(d, next(found))
                for d in dims
            )
            summed[label] = summed.get(label, q.GroupMetrics()) + metrics
    rows = []
    for label, m in summed.items():
        totals = {
            "visitors": m.visitors,
            "sessions": m.sessions,
            "views": m.views,
            "events": m.events,
            "bounces": m.bounces,
            "duration_ms": m.duration_ms,
        }
        rows.append((label, {metric: _values(totals, metric) for metric in request.metrics}))
    first = request.metrics[0]
    rows.sort(key=lambda row: (-row[1][first], tuple(str(v) for v in row[0])))
    return rows


def _values(totals: dict, metric: str):
    """One Plausible metric from summed daily metrics (Plausible's rounding)."""
    sessions = totals["sessions"]
    if metric == "visitors":
        return totals["visitors"]
    if metric == "visits":
        return sessions
    if metric == "pageviews":
        return totals["views"]
    if metric == "views_per_visit":
        return round(totals["views"] / sessions, 2) if sessions else 0
    if metric == "bounce_rate":
        return round(totals["bounces"] * 100 / sessions) if sessions else 0
    if metric == "visit_duration":
        return round(totals["duration_ms"] / 1000 / sessions) if sessions else 0
    if metric == "events":
        return totals["events"]
    if metric == "time_on_page":
        return totals["time_on_page"]
    raise PlausibleError(f"Metric `{metric}` is not supported by Footfall.")


def _counts_metrics(counts: dict, metrics: list[str], total_visitors: int) -> dict:
    """Plausible metrics from ``events.event_counts`` (goal and event-property questions)."""
    out = {}
    for metric in metrics:
        if metric == "conversion_rate":
            out[metric] = ev.conversion_rate(counts["visitors"], total_visitors)
        else:
            out[metric] = counts[COUNT_FIELDS[metric]]
    return out


def _denominator(query: q.StatsQuery) -> int:
    """``conversion_rate``'s denominator: the visitors without goal and property filters."""
    return sum(d["visitors"] for d in q.daily_metrics(ev.without_goal_and_props(query)).values())


def aggregate(request: Request) -> dict:
    """Each metric's value over the whole period."""
    query, metrics = request.stats, request.metrics
    if request.goals is not None:
        counts = ev.event_counts(query, target=ev.goals_target(request.goals)).get("", ev.ZERO)
        total = _denominator(query) if "conversion_rate" in metrics else 0
        return _counts_metrics(counts, metrics, total)
    totals = q.DayMetrics.total(q.day_metrics(query).values()).as_dict()
    if "events" in metrics:
        totals["events"] = ev.event_counts(query).get("", ev.ZERO)["events"]
    if "time_on_page" in metrics:
        totals["time_on_page"] = ev.mean_time_on_page(query)
    return {metric: _values(totals, metric) for metric in metrics}


def percent_change(metric: str, current, previous):
    """Plausible's ``change``: points for bounce rate and conversion rate, else a whole
    percentage (100 from nothing)."""
    if metric == "bounce_rate":
        return current - previous
    if metric == "conversion_rate":
        return round(current - previous, 1)
    if not previous:
        return 100 if current else 0
    return round((current - previous) * 100 / previous)


def previous(request: Request) -> Request:
    return dataclasses.replace(request, stats=request.stats.previous())


def buckets(query: q.StatsQuery, interval: str) -> list[date | int]:
    """The time labels of a series: days, month starts, or the hours 0–23 of one day."""
    if interval == "hour":
        return list(range(24))
    if interval == "month":
        return sorted({day.replace(day=1) for day in query.days()})
    return query.days()


def _bucket_of(day, interval: str):
    return day.replace(day=1) if interval == "month" else day


def series(request: Request, interval: str) -> list[tuple]:
    """(label, {metric: value}) per bucket, every bucket present (zeros included)."""
    query, metrics = request.stats, request.metrics
    labels = buckets(query, interval)
    group = "hour" if interval == "hour" else "day"
    if request.goals is not None:
        return _goal_series(request, labels, interval, group)
    events = {}
    if "events" in metrics:
        for key, counts in ev.event_counts(query, group=group).items():
            label = key if interval == "hour" else _bucket_of(key, interval)
            events[label] = events.get(label, 0) + counts["events"]
    if interval == "hour":
        return _hourly_series(query, metrics, labels, events)
    daily = q.daily_metrics(query)
    grouped: dict[date, list[dict]] = {label: [] for label in labels}
    for day in query.days():
        grouped[_bucket_of(day, interval)].append(daily.get(day, {}))
    out = []
    for label, days in grouped.items():
        totals = q.DayMetrics.total(q.DayMetrics.of(day) for day in days).as_dict()
        totals["events"] = events.get(label, 0)
        if "time_on_page" in metrics:
            totals["time_on_page"] = ev.mean_time_on_page(_bucket_query(query, label, interval))
        out.append((label, {m: _values(totals, m) for m in metrics}))
    return out


def _goal_series(request: Request, labels: list, interval: str, group: str) -> list[tuple]:
    """``series`` of the goals' conversions (with the rate against all visitors)."""
    query, metrics = request.stats, request.metrics
    per_key = ev.event_counts(query, target=ev.goals_target(request.goals), group=group)
    counted = {label: dict(ev.ZERO) for label in labels}
    for key, counts in per_key.items():
        label = key if interval == "hour" else _bucket_of(key, interval)
        if label in counted:
            for name in ev.ZERO:
                counted[label][name] += counts[name]
    totals = dict.fromkeys(labels, 0)
    if "conversion_rate" in metrics:
        if interval == "hour":
            for row in q.hours(ev.without_goal_and_props(query)):
                totals[row["hour"]] = row["visitors"]
        else:
            for day, values in q.daily_metrics(ev.without_goal_and_props(query)).items():
                label = _bucket_of(day, interval)
                if label in totals:
                    totals[label] += values["visitors"]
    return [(label, _counts_metrics(counted[label], metrics, totals[label])) for label in labels]


def _hourly_series(
    query: q.StatsQuery, metrics: list[str], labels: list, events: dict
) -> list[tuple]:
    """``series`` by hour of one day."""
    per_hour = {row["hour"]: row for row in q.hours(query)}
    out = []
    for hour in labels:
        row = per_hour.get(hour, {"visitors": 0, "views": 0, "sessions": 0})
        values = {}
        for m in metrics:
            values[m] = events.get(hour, 0) if m == "events" else row[BREAKDOWN_METRICS[m]]
        out.append((hour, values))
    return out


def _bucket_query(query: q.StatsQuery, label: date, interval: str) -> q.StatsQuery:
    last = month_end(label) if interval == "month" else label
    return dataclasses.replace(
        query, first_day=max(label, query.first_day), last_day=min(last, query.last_day)
    )


def breakdown_rows(request: Request) -> list[tuple]:
    """(value, {metric: value}) per value of the breakdown property, most visitors first."""
    query, prop, metrics = request.stats, request.breakdown, request.metrics
    total = _denominator(query) if "conversion_rate" in metrics else 0
    if prop == "event:goal":
        goals = request.goals
        if goals is None:
            goals = list(Goal.objects.filter(site_id=query.site_id).order_by("pk"))
        return [
            (name, _counts_metrics(counts, metrics, total))
            for name, counts in ev.goal_rows(query, goals)
        ]
    if request.goals is not None or prop == "event:name" or prop.startswith(PROPS_PREFIX):
        target = ev.goals_target(request.goals) if request.goals is not None else None
        group = {"event:name": "name", "event:page": "path"}.get(prop) or (
            "props:" + prop[len(PROPS_PREFIX) :]
        )
        per_value = ev.event_counts(query, target=target, group=group)
        if request.goals is None and prop.startswith(PROPS_PREFIX):
            # Imported days (only when the question includes them: ``with_imports``).
            key = prop[len(PROPS_PREFIX) :]
            for value, counts in imported.property_values(query, key).items():
                row = per_value.setdefault(value, dict(ev.ZERO))
                row["visitors"] += counts["visitors"]
                row["events"] += counts["events"]
        ordered = sorted(
            per_value.items(), key=lambda kv: (-kv[1]["visitors"], -kv[1]["events"], str(kv[0]))
        )
        return [(value, _counts_metrics(counts, metrics, total)) for value, counts in ordered]
    rows = _visit_rows(query, prop, [m for m in metrics if m in BREAKDOWN_METRICS])
    if "events" in metrics:  # event:page: every event on the page, not only its views
        per_path = ev.event_counts(query, group="path")
        for value, values in rows:
            values["events"] = per_path.get(value, ev.ZERO)["events"]
    if "time_on_page" in metrics:
        seconds = ev.time_on_page_by_path(query, {value for value, _ in rows})
        for value, values in rows:
            values["time_on_page"] = seconds.get(value, 0)
    return [(value, {m: values[m] for m in metrics}) for value, values in rows]


def _visit_rows(query: q.StatsQuery, prop: str, metrics: list[str]) -> list[tuple]:
    if prop not in BREAKDOWNS:
        raise PlausibleError(
            f"Breakdown by '{prop}' is not supported by Footfall. Please provide a valid "
            f"property for the breakdown endpoint: {BREAKDOWN_DOCS}"
        )
    dimension, column, _key = BREAKDOWNS[prop]
    if dimension == "exit":
        rows = [
            {"path": r["path"], "visitors": r["visitors"], "sessions": r["sessions"], "views": 0}
            for r in q.exit_pages(query)
        ]
    else:
        rows = q.breakdown(query, dimension)
    merged: dict[str, dict] = {}
    for row in rows:
        # ``referrer`` rows are per (referrer, source): Plausible's source merges them.
        value = row.get(column) or ""
        target = merged.setdefault(value, {"visitors": 0, "sessions": 0, "views": 0})
        for name in target:
            target[name] += row.get(name, 0)
    ordered = sorted(merged.items(), key=lambda kv: (-kv[1]["visitors"], -kv[1]["views"], kv[0]))
    return [(value, {m: m_row[BREAKDOWN_METRICS[m]] for m in metrics}) for value, m_row in ordered]


# --- imported data -----------------------------------------------------------------------

IMPORTS_WARNING = (
    "Imported stats are not included in the results because query parameters are not "
    "supported. For more information, see: https://plausible.io/docs/stats-api#filtering-"
    "imported-stats"
)


def _imported_property(request: Request) -> bool:
    """A custom-property breakdown imported data answers (``imported_custom_props``, as in
    Plausible): visitors and events of a property over all events, no filters, no goals."""
    dimension = request.breakdown or ""
    return (
        dimension.startswith(PROPS_PREFIX)
        and not request.grouped
        and request.goals is None
        and set(request.metrics) <= {"visitors", "events"}
        and imported.property_skip_reason(request.stats.filters, dimension[len(PROPS_PREFIX) :])
        is None
    )


def _event_level(request: Request) -> bool:
    """Questions answered from events alone (``events``): imported data has none of them."""
    if _imported_property(request):
        return False
    dimension = request.breakdown or ""
    return (
        request.grouped
        or request.goals is not None
        or any(
            m in ("events", "conversion_rate", "time_on_page", *REVENUE_METRICS)
            for m in request.metrics
        )
        or dimension in ("event:name", "event:goal")
        or dimension.startswith(PROPS_PREFIX)
    )


def with_imports(request: Request, asked: bool) -> tuple[Request, bool, str | None]:
    """The question with or without imported data, whether it is included and, when asked
    for but left out, Plausible's reason: ``no_imported_data`` (no complete import),
    ``out_of_range`` (none for these days, or the site's own data covers them) or
    ``unsupported_query`` (filters, breakdown or metrics imported data cannot answer).
    Plausible adds imported data only when asked (v2 ``include.imports``, v1
    ``with_imported=true``), and only where it answers exactly."""
    off = dataclasses.replace(request, stats=dataclasses.replace(request.stats, imports=False))
    if not asked:
        return off, False, None
    query = dataclasses.replace(request.stats, imports=True)
    complete = Import.objects.filter(
        site_id=query.site_id, kind="plausible", status=Import.COMPLETE
    )
    if not complete.exists():
        return off, False, "no_imported_data"
    first, last = query.first_day, query.last_day
    if not imported.coverage(query.site_id, query.tz, first, last):
        return off, False, "out_of_range"
    dimension = request.breakdown
    layer_dimension = BREAKDOWNS[dimension][0] if dimension in BREAKDOWNS else dimension
    if _event_level(request) or (
        not _imported_property(request) and imported.skipped(query, layer_dimension)
    ):
        return off, False, "unsupported_query"
    return dataclasses.replace(request, stats=query), True, None


def realtime_visitors(site_id: int) -> int:
    return q.active_visitors(site_id, REALTIME_SECONDS)["visitors"]

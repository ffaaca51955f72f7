"""The site dashboard's building blocks: date ranges, filters in the URL, panels, the chart.

Everything here turns request parameters into a ``stats.query.StatsQuery`` and the query
layer's answers into rows for templates; no statistic is computed here (the numbers come
from ``stats.query`` and ``stats.selectors``, the same functions the APIs use).

URL parameters (all bookmarkable):
- ``period``: ``today`` | ``yesterday`` | ``7d`` | ``30d`` (default) | ``month`` | ``lastmonth``
  | ``year`` | ``12mo`` | ``all`` | ``custom`` (with ``from``/``to`` as ``YYYY-MM-DD``);
- ``compare=previous``: overlay the previous period on the chart;
- filters with Pirsch's names and forms (``path=/blog``, ``path=!/blog`` is not,
  ``path=~blog`` contains), several combine (AND), see ``FILTER_LABELS``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.utils import timezone

from stats import dimensions, ranges, selectors
from stats import query as q

PERIODS: dict[str, str] = {
    "today": "Today",
    "yesterday": "Yesterday",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "month": "This month",
    "lastmonth": "Last month",
    "year": "This year",
    "12mo": "Last 12 months",
    "all": "All time",
    "custom": "Custom range",
}
DEFAULT_PERIOD = "30d"
MAX_DAYS = ranges.MAX_RANGE_DAYS  # one cap for every reader (stats.ranges)

# Filters the dashboard offers, with the words shown on chips (the dimension catalogue's).
FILTER_LABELS: dict[str, str] = dimensions.FILTER_LABELS
OPERATORS = {"is": "", "is_not": "!", "contains": "~"}
OPERATOR_WORDS = {"": "is", "!": "is not", "~": "contains", "^": "does not contain"}
RESERVED_PARAMS = {
    "period",
    "from",
    "to",
    "compare",
    "page",
    "tab",
    "event_name",
    "panel",
    "imports",
}


class RangeError(ValueError):
    pass


@dataclass
class DashboardState:
    """What the URL asks for: the range, the comparison and the filters."""

    period: str
    first_day: date
    last_day: date
    tz: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    compare: bool = False
    error: str = ""
    custom_from: str = ""
    custom_to: str = ""
    imports: bool = True  # the "include imported data" switch (``imports=0`` turns it off)

    def query(self, site_id: int) -> q.StatsQuery:
        return q.StatsQuery(
            site_id,
            self.first_day,
            self.last_day,
            self.tz,
            dict(self.filters),
            imports=self.imports,
        )

    @property
    def label(self) -> str:
        if self.period == "custom":
            if self.first_day == self.last_day:
                return self.first_day.strftime("%-d %b %Y")
            return f"{self.first_day:%-d %b %Y} – {self.last_day:%-d %b %Y}"
        return PERIODS[self.period]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def scale(self) -> str:
        """Hourly for one day, then daily, weekly, monthly as ranges grow."""
        if self.days == 1:
            return "hour"
        if self.days <= 62:
            return "day"
        if self.days <= 200:
            return "week"
        return "month"

    def params(self, **overrides) -> list[tuple[str, str]]:
        """The state as query parameters (``None`` drops a key)."""
        base: dict[str, list[str]] = {"period": [self.period]}
        if self.period == "custom":
            base["from"], base["to"] = [self.first_day.isoformat()], [self.last_day.isoformat()]
        if self.compare:
            base["compare"] = ["previous"]
        if not self.imports:
            base["imports"] = ["0"]
        base.update({k: list(v) for k, v in self.filters.items()})
        for key, value in overrides.items():
            if value is None:
                base.pop(key, None)
            else:
                base[key] = value if isinstance(value, list) else [value]
        return [(k, v) for k, values in base.items() for v in values]

    def querystring(self, **overrides) -> str:
        return urlencode(self.params(**overrides))

    def filter_querystring(self) -> str:
        """Only range + filters (what panels and exports need)."""
        return self.querystring(compare=None)

    def with_filter(self, key: str, value: str) -> str:
        """The query string with ``key`` set to ``value`` (clicking a row replaces that key)."""
        return self.querystring(**{key: value, "page": None})

    def chips(self) -> list[dict]:
        chips = []
        for key, values in self.filters.items():
            for value in values:
                prefix = value[0] if value[:1] in ("!", "~", "^") and key != "pattern" else ""
                remaining = [v for v in values if v != value]
                chips.append(
                    {
                        "key": key,
                        "label": FILTER_LABELS.get(key, key),
                        "operator": OPERATOR_WORDS[prefix],
                        "value": display_value(key, value[len(prefix) :]),
                        "remove": self.querystring(**{key: remaining or None}),
                    }
                )
        return chips


def _today(tz: str) -> date:
    return timezone.now().astimezone(ZoneInfo(tz)).date()


def period_days(period: str, today: date, first_ever: date | None) -> tuple[date, date]:
    if period == "today":
        return today, today
    if period == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if period == "7d":
        return today - timedelta(days=6), today
    if period == "30d":
        return today - timedelta(days=29), today
    if period == "month":
        return today.replace(day=1), today
    if period == "lastmonth":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if period == "year":
        return today.replace(month=1, day=1), today
    if period == "12mo":
        start = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
        return start, today
    if period == "all":
        start = first_ever or today
        return max(start, today - timedelta(days=MAX_DAYS - 1)), today
    raise RangeError(f"unknown period {period!r}")


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise RangeError("Dates must look like 2024-01-31.") from exc


def dashboard_state(params, site) -> DashboardState:
    """Read the range, comparison and filters from a ``QueryDict``; bad input → defaults and
    an ``error`` message (the page still renders)."""
    tz = site.timezone
    today = _today(tz)
    error = ""
    period = params.get("period") or DEFAULT_PERIOD
    if period not in PERIODS:
        error, period = "Unknown date range; showing the last 30 days.", DEFAULT_PERIOD
    custom_from, custom_to = params.get("from", ""), params.get("to", "")
    if period == "custom":
        try:
            first, last = _parse_day(custom_from), _parse_day(custom_to)
            if last < first:
                raise RangeError("The end date is before the start date.")
            if (last - first).days >= MAX_DAYS:
                raise RangeError("A range can be at most ten years.")
            try:  # days whose neighbours are no dates (9999-12-31) and the cap, shared
                ranges.check_range(first, last)
            except ranges.RangeError as exc:
                raise RangeError(f"{exc.message[:1].upper()}{exc.message[1:]}.") from exc
        except RangeError as exc:
            error, period = f"{exc} Showing the last 30 days.", DEFAULT_PERIOD
            first, last = period_days(period, today, None)
    else:
        first_ever = selectors.first_event_day(site.pk, tz) if period == "all" else None
        first, last = period_days(period, today, first_ever)
    raw_filters = {
        key: params.getlist(key)
        for key in params
        if key not in RESERVED_PARAMS and (key in FILTER_LABELS or key.startswith("meta_"))
    }
    try:
        filters = q.validate_filters(raw_filters)
    except q.QueryError as exc:
        error = f"{exc.message} (filter ignored)."
        raw_filters.pop(exc.field, None)
        filters = q.validate_filters(raw_filters)
    return DashboardState(
        period=period,
        first_day=first,
        last_day=last,
        tz=tz,
        filters=filters,
        compare=params.get("compare") == "previous",
        error=error,
        custom_from=custom_from,
        custom_to=custom_to,
        imports=params.get("imports") != "0",
    )


def filter_param(key: str, operator: str, value: str) -> tuple[str, str] | None:
    """The add-filter form's three fields → one URL parameter, or None if unusable."""
    value = (value or "").strip()
    if key not in FILTER_LABELS or operator not in OPERATORS or not value:
        return None
    if key == "pattern":
        return key, value
    return key, OPERATORS[operator] + value


# --- display -----------------------------------------------------------------------------


PLATFORMS = {"desktop": "Desktop", "mobile": "Mobile", "tablet": "Tablet"}
SCREENS = {
    "XXL": "Extra-extra large (≥ 2560 px)",
    "XL": "Extra large (≥ 1920 px)",
    "L": "Large (≥ 1280 px)",
    "M": "Medium (≥ 1024 px)",
    "S": "Small (≥ 768 px)",
    "XS": "Phone (< 768 px)",
}


def display_value(key: str, value: str) -> str:
    if key == "country":
        return selectors.country_name(value) or value
    if key == "region":
        return selectors.region_name(value)
    if key == "platform":
        return PLATFORMS.get(value, value)
    if key == "screen_class":
        return SCREENS.get(value, value)
    return value


# --- panels ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    name: str  # URL name: /panels/<name>
    title: str  # tab text
    group: str  # panels of one group share a card and switch as tabs
    column: str  # the row's label column in the query layer's answer
    filter_key: str | None  # the dashboard filter a click sets
    metric_label: str = "Visitors"


PANELS: dict[str, Panel] = {
    p.name: p
    for p in [
        Panel("pages", "Top pages", "pages", "path", "path"),
        Panel("entry", "Entry pages", "pages", "entry_path", "entry_path"),
        Panel("exit", "Exit pages", "pages", "path", "path"),
        Panel("channels", "Channels", "sources", "channel", "channel"),
        Panel("sources", "Sources", "sources", "source", "referrer_name"),
        Panel("referrers", "Referrers", "sources", "referrer", "referrer"),
        Panel("utm_source", "UTM source", "sources", "utm_source", "utm_source"),
        Panel("utm_medium", "UTM medium", "sources", "utm_medium", "utm_medium"),
        Panel("utm_campaign", "UTM campaign", "sources", "utm_campaign", "utm_campaign"),
        Panel("utm_content", "UTM content", "sources", "utm_content", "utm_content"),
        Panel("utm_term", "UTM term", "sources", "utm_term", "utm_term"),
        Panel("countries", "Countries", "locations", "country_code", "country"),
        Panel("regions", "Regions", "locations", "region", "region"),
        Panel("cities", "Cities", "locations", "city", "city"),
        Panel("browsers", "Browsers", "devices", "browser", "browser"),
        Panel("os", "Operating systems", "devices", "os", "os"),
        Panel("devices", "Devices", "devices", "device_type", "platform"),
        Panel("screens", "Screen sizes", "devices", "screen_class", "screen_class"),
        Panel("languages", "Languages", "languages", "language", "language"),
        Panel("events", "Custom events", "events", "name", "event"),
        Panel("goals", "Goals", "goals", "name", None),
    ]
}
GROUPS: dict[str, str] = {
    "pages": "Pages",
    "sources": "Sources",
    "locations": "Locations",
    "devices": "Devices",
    "languages": "Languages",
    "events": "Custom events",
    "goals": "Goals",
}
FIRST_PANEL = {group: next(p for p in PANELS.values() if p.group == group) for group in GROUPS}
BREAKDOWN_DIMENSIONS = dimensions.PANEL_BREAKDOWNS  # panel → breakdown (the catalogue's)
EMPTY_LABELS = {
    "sources": "Direct / None",
    "referrers": "Direct / None",
    "channels": "(none)",
}


def panel_rows(panel: Panel, stats_query: q.StatsQuery) -> list[dict]:
    """Every row of a panel, most visitors first: ``label``, ``value`` (filter value or None),
    ``visitors``, ``share`` (0–1), plus ``cr`` for goals and ``extra`` text."""
    if panel.name == "goals":
        goals = q.goals(stats_query)
        return [
            {
                "label": g["page_goal"]["name"],
                "value": None,
                "filter_key": "event" if g["page_goal"]["event_name"] else "pattern",
                "filter_value": g["page_goal"]["event_name"] or g["page_goal"]["path_pattern"],
                "visitors": g["visitors"],
                "views": g["views"],
                "share": g["cr"],
                "cr": g["cr"],
            }
            for g in sorted(goals, key=lambda g: (-g["visitors"], g["page_goal"]["name"]))
        ]
    if panel.name == "exit":
        raw = q.exit_pages(stats_query)
        # Shares of the period's visitors, like every other panel: a visitor leaving on two
        # pages (two sessions) counts on both rows, so the rows' sum would shrink the shares.
        total = q.period_visitors(stats_query, "exit") or 1
        rows = [
            {**r, "relative_visitors": round(r["visitors"] / total, 4), "views": r["exits"]}
            for r in sorted(raw, key=lambda r: (-r["visitors"], r["path"]))
        ]
    elif panel.name == "sources":
        rows = selectors.source_breakdown(stats_query)
    else:
        rows = q.breakdown(stats_query, BREAKDOWN_DIMENSIONS[panel.name])
    result = []
    for row in rows:
        value = row[panel.column] or ""
        label = display_value(panel.filter_key or "", value) if value else ""
        if panel.name == "cities" and value and row.get("country_code"):
            label = f"{value} ({row['country_code']})"
        result.append(
            {
                "label": label or EMPTY_LABELS.get(panel.name, "(not set)"),
                "value": value or None,
                "filter_key": panel.filter_key if value else None,
                "filter_value": value,
                "visitors": row["visitors"],
                "views": row.get("views", 0),
                "share": row.get("relative_visitors", 0),
            }
        )
    return result


def event_properties(stats_query: q.StatsQuery, event_name: str) -> list[dict]:
    """An event's props: one row per key and value, with visitors and count."""
    filtered = q.StatsQuery(
        stats_query.site_id,
        stats_query.first_day,
        stats_query.last_day,
        stats_query.tz,
        {**stats_query.filters, "event": [event_name]},
    )
    per_pair: dict[tuple[str, str], dict] = {}
    for row in q.event_list(filtered):
        if row["name"] != event_name:
            continue
        for key, value in row["meta"].items():
            entry = per_pair.setdefault(
                (key, value), {"key": key, "value": value, "visitors": 0, "count": 0}
            )
            entry["visitors"] += row["visitors"]
            entry["count"] += row["count"]
    return sorted(per_pair.values(), key=lambda r: (r["key"], -r["count"], r["value"]))


# --- CSV ---------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str | int | float:
    """Text a spreadsheet would run as a formula gets a leading ``'`` (numbers stay numbers)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class CsvWriter:
    def __init__(self):
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def row(self, *cells) -> None:
        self.writer.writerow([csv_cell(c) for c in cells])

    def getvalue(self) -> str:
        return self.buffer.getvalue()


def export_csv(state: DashboardState, site, panel_names: list[str]) -> str:
    """The current view as CSV: a ``summary`` block (each KPI with its previous value) and
    one block per panel (``panel,item,visitors,views,share``), blocks separated by a blank
    line. ``panel_names`` limits the panels (``?panel=pages``); ``summary`` is always first
    unless only panels were asked for."""
    stats_query = state.query(site.pk)
    out = CsvWriter()
    if not panel_names or "summary" in panel_names:
        out.row("site", site.hostname)
        out.row("range", state.first_day.isoformat(), state.last_day.isoformat())
        for chip in state.chips():
            out.row("filter", f"{chip['label']} {chip['operator']} {chip['value']}")
        out.row()
        out.row("metric", "value", "previous", "change")
        for key, figure in selectors.dashboard_kpis(stats_query).items():
            out.row(
                key,
                figure["value"],
                figure["previous"],
                figure["change"] if figure["change"] is not None else "",
            )
        out.row()
    for name in panel_names or list(PANELS):
        if name == "summary":
            continue
        panel = PANELS[name]
        out.row("panel", "item", "visitors", "views", "share")
        for row in panel_rows(panel, stats_query):
            out.row(
                panel.name,
                row["label"] if row["value"] is None else row["filter_value"],
                row["visitors"],
                row["views"],
                row["share"],
            )
        out.row()
    return out.getvalue()

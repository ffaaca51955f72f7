"""The dimension catalogue: every attribute statistics can filter or break down by, as data.

One ``Dimension`` per attribute says where it lives (its event column, whether it describes
the visit — session-scoped — or the event), how it is filtered, how the dashboard labels it,
how it is broken down (the breakdown's name, key columns and which events it counts) and
what the APIs call it (Pirsch's field renames, Plausible's property). The dictionaries the
query layer, the rollups, the dashboard and the APIs read are derived here, so adding a
breakdown is one entry in ``CATALOGUE``.

Order: ``CATALOGUE`` is in the dashboard's order (its filter picker lists labels so).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dimension:
    name: str  # the filter parameter (Pirsch's name), e.g. ``country``
    column: str  # the event column, e.g. ``country_code``
    label: str  # the dashboard's word for it (filter chips and picker)
    # Describes the visit: every event of a session-day carries the session's value
    # (``stats.query.scope``), and ``SessionDay`` rows are grouped by it.
    session: bool = False
    filterable: bool = True  # a plain column filter (``event`` is matched on custom events)
    breakdown: str | None = None  # the breakdown's name, e.g. ``country``
    key: tuple[str, ...] = ()  # the breakdown's key columns (default: ``column``)
    counts: str | None = None  # the kind of events a breakdown counts (None: all)
    computed: str | None = None  # SQL computing the column from the event time
    pirsch: dict[str, str] = field(default_factory=dict)  # column → Pirsch field name
    plausible: str | None = None  # Plausible's property, e.g. ``visit:country``
    panel: str | None = None  # the dashboard panel showing the breakdown
    # Pirsch's ``statistics/options/<option>`` offering this filter's values (read from the
    # breakdown of the dimension, or the breakdown whose key holds its column).
    option: str | None = None
    # The session table of Plausible's CSV export keyed by it (``stats.plausible_export``).
    export: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The breakdown's key columns."""
        return self.key or (self.column,)


CATALOGUE: tuple[Dimension, ...] = (
    Dimension("path", "path", "Page", breakdown="page", counts="pageview",
              plausible="event:page", panel="pages", option="page"),
    Dimension("entry_path", "entry_path", "Entry page", session=True, breakdown="entry",
              counts="pageview", pirsch={"entry_path": "path"}, plausible="visit:entry_page",
              panel="entry", export="entry_pages"),
    Dimension("title", "title", "Title"),
    Dimension("referrer", "referrer", "Referrer", session=True, breakdown="referrer",
              key=("referrer", "source"), pirsch={"source": "referrer_name"},
              plausible="visit:referrer", panel="referrers", option="referrer",
              export="sources"),
    Dimension("referrer_name", "source", "Source", session=True, plausible="visit:source",
              option="referrer/name", export="sources"),
    Dimension("channel", "channel", "Channel", session=True, breakdown="channel",
              plausible="visit:channel", panel="channels"),
    Dimension("utm_source", "utm_source", "UTM source", session=True, breakdown="utm_source",
              plausible="visit:utm_source", panel="utm_source", option="utm/source",
              export="sources"),
    Dimension("utm_medium", "utm_medium", "UTM medium", session=True, breakdown="utm_medium",
              plausible="visit:utm_medium", panel="utm_medium", option="utm/medium",
              export="sources"),
    Dimension("utm_campaign", "utm_campaign", "UTM campaign", session=True,
              breakdown="utm_campaign", plausible="visit:utm_campaign", panel="utm_campaign",
              option="utm/campaign", export="sources"),
    Dimension("utm_content", "utm_content", "UTM content", session=True,
              breakdown="utm_content", plausible="visit:utm_content", panel="utm_content",
              option="utm/content", export="sources"),
    Dimension("utm_term", "utm_term", "UTM term", session=True, breakdown="utm_term",
              plausible="visit:utm_term", panel="utm_term", option="utm/term", export="sources"),
    Dimension("country", "country_code", "Country", session=True, breakdown="country",
              plausible="visit:country", panel="countries", option="country",
              export="locations"),
    Dimension("region", "region", "Region", session=True, breakdown="region",
              key=("country_code", "region"), plausible="visit:region", panel="regions",
              option="region", export="locations"),
    Dimension("city", "city", "City", session=True, breakdown="city",
              key=("country_code", "region", "city"), plausible="visit:city", panel="cities",
              option="city"),
    Dimension("browser", "browser", "Browser", session=True, breakdown="browser",
              plausible="visit:browser", panel="browsers", export="browsers"),
    Dimension("browser_version", "browser_version", "Browser version", session=True,
              breakdown="browser_version", key=("browser", "browser_version"),
              plausible="visit:browser_version", export="browsers"),
    Dimension("os", "os", "OS", session=True, breakdown="os", plausible="visit:os", panel="os",
              export="operating_systems"),
    Dimension("os_version", "os_version", "OS version", session=True, breakdown="os_version",
              key=("os", "os_version"), plausible="visit:os_version",
              export="operating_systems"),
    Dimension("platform", "device_type", "Device", session=True, breakdown="platform",
              plausible="visit:device", panel="devices", export="devices"),
    Dimension("screen_class", "screen_class", "Screen size", session=True, breakdown="screen",
              plausible="visit:screen", panel="screens"),
    Dimension("language", "language", "Language", session=True, breakdown="language",
              panel="languages", option="language"),
    Dimension("event", "name", "Event", filterable=False, breakdown="event", counts="custom",
              plausible="event:name", panel="events", option="event"),
    Dimension("hostname", "hostname", "Hostname", plausible="event:hostname"),
    Dimension("hour", "hour", "Hour", filterable=False, breakdown="hour",
              computed="""extract(hour FROM "timestamp" AT TIME ZONE %(tz)s)::int"""),
)  # fmt: skip
BY_NAME: dict[str, Dimension] = {d.name: d for d in CATALOGUE}
BY_BREAKDOWN: dict[str, Dimension] = {d.breakdown: d for d in CATALOGUE if d.breakdown}

# Filters that are not attributes: where the dashboard labels them among the catalogue's.
FILTER_FORMS: dict[str, tuple[str, str]] = {
    "pattern": ("Page matches", "event"),  # a regular expression on the path: after "event"
    "uid": ("User ID", "hostname"),  # Matomo's uid, matched by its stored hash (is / is not)
}
# Filter names the query layer knows besides the catalogue's columns.
SPECIAL_FILTERS = ("pattern", "event", "event_meta_key", "exit_path", "uid")

# Filter parameter → event column (Pirsch's names).
FILTER_FIELDS: dict[str, str] = {d.name: d.column for d in CATALOGUE if d.filterable}


def _filter_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for dimension in CATALOGUE:
        if dimension.filterable or dimension.name == "event":
            labels[dimension.name] = dimension.label
        for name, (label, after) in FILTER_FORMS.items():
            if after == dimension.name:
                labels[name] = label
    return labels


# Filters the dashboard offers, with the words shown on chips (in the picker's order).
FILTER_LABELS: dict[str, str] = _filter_labels()

# A session's attributes, in storage order: ``SessionDay`` rows are grouped by them and the
# rolled-up events' attribute key hashes them in this order, so never reorder (a new one
# goes at the end, with its migration). Each is a session-scoped column of the catalogue,
# except ``hostname``, which belongs to the page but is kept per session row.
SESSION_COLUMNS: tuple[str, ...] = (
    "hostname",
    "entry_path",
    "referrer",
    "source",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device_type",
    "screen_class",
    "language",
    "country_code",
    "region",
    "city",
)
assert {d.column for d in CATALOGUE if d.session} | {"hostname"} == set(SESSION_COLUMNS)
# Filters on session attributes (``hostname`` included: session rows keep it).
SESSION_FILTERS = frozenset(name for name, c in FILTER_FIELDS.items() if c in SESSION_COLUMNS)

# Breakdowns that are rolled up per day: name → (key columns, kind of events counted).
DIMENSIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    d.breakdown: (d.columns, d.counts) for d in CATALOGUE if d.breakdown
}
# Dimension columns computed from the event time (SQL for the rollups, ORM for raw queries).
COMPUTED_COLUMNS: dict[str, str] = {d.column: d.computed for d in CATALOGUE if d.computed}
# Breakdowns of session attributes (counting all events or page views) that session rows
# answer exactly.
SESSION_DIMENSIONS = frozenset(
    name
    for name, (columns, kind) in DIMENSIONS.items()
    if set(columns) <= set(SESSION_COLUMNS) and kind in (None, "pageview")
)
# Dashboard panel → breakdown.
PANEL_BREAKDOWNS: dict[str, str] = {
    d.panel: d.breakdown for d in CATALOGUE if d.panel and d.breakdown
}


def _option_breakdown(dimension: Dimension) -> str:
    """The breakdown a filter-options list reads: the dimension's own, or the first whose
    key holds its column (``referrer_name``: the referrer breakdown's ``source``)."""
    if dimension.breakdown:
        return dimension.breakdown
    return next(d.breakdown for d in CATALOGUE if d.breakdown and dimension.column in d.columns)


# Pirsch's filter options answered by a breakdown: option → (breakdown, its column).
PIRSCH_OPTIONS: dict[str, tuple[str, str]] = {
    d.option: (_option_breakdown(d), d.column) for d in CATALOGUE if d.option
}
# The session attributes Plausible's CSV export keys its session tables by.
EXPORT_SESSION_COLUMNS: tuple[str, ...] = tuple(d.column for d in CATALOGUE if d.export)
# Plausible property → filter name (``exit_path`` is a filter of its own).
PLAUSIBLE_PROPERTIES: dict[str, str] = {
    **{d.plausible: d.name for d in CATALOGUE if d.plausible},
    "visit:exit_page": "exit_path",
}


def pirsch_fields(breakdown: str) -> dict[str, str]:
    """A breakdown's column → Pirsch field renames (empty when Pirsch's names are ours)."""
    return dict(BY_BREAKDOWN[breakdown].pirsch)

"""Reads of visitor intelligence from raw events (the identity-js-style API), the sites
list and the dashboard's headline figures.

The selectors return rows, events and typed values; the APIs' serializers
(``stats.api.identity.serializers``) give them their wire shapes. By subject:

- ``periods``: the time span of a read and the events in it;
- ``public``: how stored values are named on the APIs (public ids, fingerprint hash…);
- ``totals``: per-session figures of summed per-day metrics;
- ``visitor_filters``: the ``/visitors`` filters and search;
- ``paging``: newest-first lists over the raw and rolled-up spans;
- ``sessions``, ``visitors``, ``events``: the lists and details;
- ``summary``: totals, top pages and live visitors of the identity-js API;
- ``sites_overview``: the sites list's counts and trends;
- ``kpis``: the site dashboard's KPIs, sources and live overview.

Everything is re-exported here: ``from stats.selectors import X`` keeps working.
"""

from stats.selectors.events import event_rows, event_type_counts
from stats.selectors.kpis import (
    active_visitor_count,
    dashboard_kpis,
    first_event_day,
    live_overview,
    source_breakdown,
)
from stats.selectors.paging import (
    CLICK_BEHAVIOURS,
    CLICK_EVENTS,
    CLICKS,
    NewestFirst,
    NewestGroups,
    events_by_span,
    like_pattern,
    spans,
)
from stats.selectors.periods import Period, all_time_bounds, events_in
from stats.selectors.public import (
    country_name,
    epoch_ms,
    event_type_name,
    fingerprint_hash,
    public_session_id,
    public_visitor_id,
    region_name,
    session_id_from_public,
    visitor_id_from_public,
)
from stats.selectors.sessions import (
    MAX_SESSION_EVENTS,
    VISIT_ATTRIBUTES,
    SessionDetail,
    _session_rows,
    session_detail,
    session_list,
    session_rows,
    visit_attributes,
)
from stats.selectors.sites_overview import site_trends, visitors_today_by_site
from stats.selectors.summary import (
    PageCount,
    StatsSummary,
    TopPages,
    live_visitors,
    stats_summary,
    top_pages,
)
from stats.selectors.totals import avg_session_ms, summed, views_per_session
from stats.selectors.visitor_filters import (
    VISITOR_FILTER_COLUMNS,
    filter_visitors,
    visitor_search,
)
from stats.selectors.visitors import VisitorDetail, visitor_detail, visitor_list, visitor_rows

__all__ = [
    "CLICKS",
    "CLICK_BEHAVIOURS",
    "CLICK_EVENTS",
    "MAX_SESSION_EVENTS",
    "VISITOR_FILTER_COLUMNS",
    "VISIT_ATTRIBUTES",
    "NewestFirst",
    "NewestGroups",
    "PageCount",
    "Period",
    "SessionDetail",
    "StatsSummary",
    "TopPages",
    "VisitorDetail",
    "_session_rows",
    "active_visitor_count",
    "all_time_bounds",
    "avg_session_ms",
    "country_name",
    "dashboard_kpis",
    "epoch_ms",
    "event_rows",
    "event_type_counts",
    "event_type_name",
    "events_by_span",
    "events_in",
    "filter_visitors",
    "fingerprint_hash",
    "first_event_day",
    "like_pattern",
    "live_overview",
    "live_visitors",
    "public_session_id",
    "public_visitor_id",
    "region_name",
    "session_detail",
    "session_id_from_public",
    "session_list",
    "session_rows",
    "site_trends",
    "source_breakdown",
    "spans",
    "stats_summary",
    "summed",
    "top_pages",
    "views_per_session",
    "visit_attributes",
    "visitor_detail",
    "visitor_id_from_public",
    "visitor_list",
    "visitor_rows",
    "visitor_search",
    "visitors_today_by_site",
]

"""Behaviour insights from the snippet's events: frustration, errors, clicks, SEO, journeys,
reading, forms, acquisition and web vitals.

Read by the identity-js insights API (``stats.api.identity.insights``) and the dashboard's
Behaviour pages (``stats.behaviour_views``), so both always show the same numbers. Every
figure is computed from raw ``Event`` rows of one site and one ``Period`` by set-based
queries (window functions for orders within a session, ``percentile_cont`` for
percentiles on PostgreSQL). The embedded SQLite default runs the same SQL where it is
portable; percentiles are computed in Python there, with the same interpolation as
``percentile_cont``. The formulas are written down in ``docs/insights.md``.

Bots are dropped at ingestion, so nothing here filters them.

By subject: ``formulas`` (the constants), ``expressions`` (portable SQL pieces and
percentiles), ``frustration_scores``, ``page_issues`` (errors, clicks, SEO), ``navigation``
(journeys, acquisition), ``engagement`` (reading, forms) and ``web_vitals``; ``results``
holds the typed results they return (wire shapes are made at the API edge). Everything is
re-exported here: ``from stats.insights import X`` and ``insights.X`` keep working.
"""

from stats.insights.engagement import forms, reading
from stats.insights.expressions import (
    PercentileCont,
    PropNumber,
    grouped_percentiles,
    percentile_cont,
    prop_text,
)
from stats.insights.formulas import (
    CLICK_ISSUES,
    ERROR_PAGES_LISTED,
    ERROR_TYPES,
    FRUSTRATION_BUCKETS,
    FRUSTRATION_ERRORS,
    FRUSTRATION_MAX,
    FRUSTRATION_WEIGHTS,
    PERCENTILES,
    RAPID_NAVIGATION_SECONDS,
    SEO_ISSUE_CODES,
    WEB_VITALS,
)
from stats.insights.frustration_scores import frustration, frustration_events, frustration_score
from stats.insights.navigation import acquisition, journeys
from stats.insights.page_issues import clicks, errors, seo
from stats.insights.results import Ranked
from stats.insights.web_vitals import web_metrics
from stats.selectors import Period

__all__ = [
    "CLICK_ISSUES",
    "ERROR_PAGES_LISTED",
    "ERROR_TYPES",
    "FRUSTRATION_BUCKETS",
    "FRUSTRATION_ERRORS",
    "FRUSTRATION_MAX",
    "FRUSTRATION_WEIGHTS",
    "PERCENTILES",
    "RAPID_NAVIGATION_SECONDS",
    "SEO_ISSUE_CODES",
    "WEB_VITALS",
    "PercentileCont",
    "Period",
    "PropNumber",
    "Ranked",
    "acquisition",
    "clicks",
    "errors",
    "forms",
    "frustration",
    "frustration_events",
    "frustration_score",
    "grouped_percentiles",
    "journeys",
    "percentile_cont",
    "prop_text",
    "reading",
    "seo",
    "web_metrics",
]

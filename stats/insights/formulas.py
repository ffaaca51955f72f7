"""The insights' constants (``docs/insights.md`` explains each)."""

from __future__ import annotations

from tracking.protocols.footfall import SEO_ISSUES

# --- the formulas' constants (docs/insights.md explains each) -------------------------

# A page view less than this many seconds after the previous page view of the same
# session is a rapid navigation (bouncing around without reading).
RAPID_NAVIGATION_SECONDS = 3
# Frustration score: points per occurrence and the most one signal may contribute.
FRUSTRATION_WEIGHTS: dict[str, tuple[int, int]] = {
    "rage_clicks": (15, 45),
    "dead_clicks": (5, 20),
    "errors": (10, 30),
    "form_abandons": (15, 30),
    "rapid_navigations": (5, 15),
}
FRUSTRATION_MAX = 100
# Score bands of the distribution (inclusive bounds).
FRUSTRATION_BUCKETS = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))
# Errors that count towards frustration (warnings do not).
FRUSTRATION_ERRORS = ("js_exception", "promise_rejection", "console_error")
ERROR_TYPES = (*FRUSTRATION_ERRORS, "console_warning")
CLICK_ISSUES = ("rage_click", "dead_click", "phantom_click")
# The SEO issue codes: those ingestion accepts from the snippet's collector.
SEO_ISSUE_CODES = SEO_ISSUES
WEB_VITALS = ("lcp", "inp", "fid", "cls", "ttfb")
PERCENTILES = (0.5, 0.75, 0.95)
# How many distinct pages an error group lists.
ERROR_PAGES_LISTED = 5

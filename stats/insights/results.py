"""Typed results of the behaviour insights.

The insights return these; the identity-js API turns them into its wire shapes
(``stats.api.identity.serializers``: epoch milliseconds, field names such as ``from``/``to``)
and the dashboard's Behaviour pages read their fields. Times are aware datetimes here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from stats.selectors import PageCount

Row = TypeVar("Row")


@dataclass(frozen=True)
class Ranked(Generic[Row]):
    """One page of a ranked list and how many rows the whole list has."""

    rows: list[Row]
    total: int


# --- frustration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Signals:
    """A frustration score and the signal counts it is made of (``FRUSTRATION_WEIGHTS``)."""

    score: int
    rage_clicks: int
    dead_clicks: int
    errors: int
    form_abandons: int
    rapid_navigations: int


@dataclass(frozen=True)
class VisitorFrustration(Signals):
    visitor_id: str  # the public visitor id


@dataclass(frozen=True)
class SessionFrustration(Signals):
    """A session's score, dated at its last signal in the period."""

    visitor_id: int
    session_id: int
    last_at: datetime


@dataclass(frozen=True)
class ScoreBand:
    low: int  # inclusive bounds of the band (``FRUSTRATION_BUCKETS``)
    high: int
    visitors: int


@dataclass(frozen=True)
class Frustration:
    """The page of scores (highest first), the average over every visitor with a page view
    (zeros included), and the visitors per score band."""

    scores: list[VisitorFrustration]
    average_score: float
    visitor_count: int
    distribution: list[ScoreBand]

    @property
    def total(self) -> int:
        return self.visitor_count


# --- errors, clicks, SEO --------------------------------------------------------------


@dataclass(frozen=True)
class PageHits:
    url: str
    count: int


@dataclass(frozen=True)
class ErrorGroup:
    """Errors of one type and message: the latest occurrence's source, line and column."""

    type: str
    message: str
    count: int
    visitors: int
    sessions: int
    page_count: int
    pages: list[PageHits]  # the most affected pages (``ERROR_PAGES_LISTED``)
    first_seen: datetime
    last_seen: datetime
    source: str | None
    line: int | None
    column: int | None


@dataclass(frozen=True)
class ClickIssues:
    """Rage, dead and phantom clicks on one element (selector) of one page."""

    selector: str
    url: str
    rage_clicks: int
    dead_clicks: int
    phantom_clicks: int
    total: int
    visitors: int
    last_seen: datetime


@dataclass(frozen=True)
class SeoPage:
    """A page's latest SEO report in the period."""

    url: str
    issues: list[str]
    h1_count: int | None
    images_without_alt: int | None
    title_length: int | None
    description_length: int | None
    reports: int
    last_checked: datetime

    @property
    def issue_count(self) -> int:
        return len(self.issues)


@dataclass(frozen=True)
class SeoIssue:
    code: str
    pages: int


@dataclass(frozen=True)
class Seo:
    pages: list[SeoPage]  # the requested page of the list, most issues first
    total: int
    issues: list[SeoIssue]
    pages_with_issues: int

    @property
    def pages_checked(self) -> int:
        return self.total


# --- journeys and acquisition ---------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """Page views of ``from_path`` directly followed by one of ``to_path`` in a session."""

    from_path: str
    to_path: str
    count: int
    share: float  # of ``from_path``'s page views
    from_views: int
    from_exits: int
    drop_off: float


@dataclass(frozen=True)
class DropOff:
    url: str
    views: int
    exits: int
    drop_off: float


@dataclass(frozen=True)
class Journeys:
    transitions: list[Transition]
    total: int  # distinct transitions
    drop_offs: list[DropOff]


@dataclass(frozen=True)
class SourceRow:
    """One value of an acquisition list (``referrer_name`` only for referrers)."""

    value: str
    visitors: int
    sessions: int
    views: int
    relative_visitors: float
    referrer_name: str | None = None


@dataclass(frozen=True)
class Acquisition:
    """Each list's requested page, and each whole list's length under ``totals``."""

    referrers: list[SourceRow]
    utm_sources: list[SourceRow]
    utm_mediums: list[SourceRow]
    utm_campaigns: list[SourceRow]
    channels: list[SourceRow]
    totals: dict[str, int]


# --- reading and forms ----------------------------------------------------------------


@dataclass(frozen=True)
class ReadingPage:
    url: str
    views: int
    reports: int
    avg_scroll_depth: float | None
    median_scroll_depth: float | None
    avg_active_ms: int | None
    avg_scroll_velocity: float | None
    attention_pct: float | None


@dataclass(frozen=True)
class FormAbandonment:
    form: str
    url: str
    count: int
    visitors: int
    avg_fields_touched: float | None
    last_field: str  # the field most often touched last


@dataclass(frozen=True)
class FieldHesitation:
    form: str
    field: str
    url: str
    count: int
    avg_hesitation_ms: int
    median_hesitation_ms: int


@dataclass(frozen=True)
class Forms:
    abandonments: list[FormAbandonment]
    hesitations: list[FieldHesitation]
    totals: dict[str, int]  # each whole list's length


# --- web vitals -----------------------------------------------------------------------


@dataclass(frozen=True)
class Vital:
    """One metric's percentiles (``PERCENTILES``) over its reports, as measured."""

    samples: int
    percentiles: dict[str, float | None]  # ``p50``/``p75``/``p95``


@dataclass(frozen=True)
class PageVitals:
    url: str
    reports: int
    vitals: dict[str, Vital]  # metric → its percentiles (``WEB_VITALS``)


@dataclass(frozen=True)
class WebMetrics:
    vitals: dict[str, Vital]
    pages: list[PageVitals]  # the requested page, most reports first
    total: int
    avg_session_duration_ms: int
    bounce_rate: float
    sessions: int
    top_pages: list[PageCount]

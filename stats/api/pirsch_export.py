"""``/api/v1/statistics`` itself: Pirsch's CSV export (``GET``) and deletion (``DELETE``).

The export writes one CSV file per selected statistic into a zip, through the dashboard's
CSV writer (cells a spreadsheet would run as formulas are neutralised). Deletion needs a
client holding ``site:manage`` whose creator is Owner or Admin of the domain; the rows go
through ``stats.services``.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

from django.http import HttpResponse
from django.utils import timezone
from rest_framework.response import Response

from accounts.api.auth import PirschError
from accounts.api.drf import HasScope
from accounts.models import Scope
from sites.api import pirsch_site
from stats import pirsch_selectors as ps
from stats import query as q
from stats import ranges
from stats.api import pirsch_schema as doc
from stats.api.pirsch import (
    ParamError,
    PirschReadView,
    event_rows,
    flag,
    platform_shares,
    stats_query_for,
)
from stats.dashboard import CsvWriter
from stats.services import site_stats_delete_range, site_stats_reset


# export flag → [(file name, rows of the selection)]
def _exports(stats_query) -> dict:
    def rows(name: str):
        return lambda: q.breakdown(stats_query, name)

    return {
        "visitors": [("visitors", lambda: q.visitor_series(stats_query))],
        "pages": [("pages", rows("page"))],
        "session_duration": [
            ("session_duration", lambda: q.duration_series(stats_query, "day", per_page=False))
        ],
        "growth": [("growth", lambda: [q.growth(stats_query)])],
        "languages": [("languages", rows("language"))],
        "referrer": [("referrer", rows("referrer"))],
        "os": [("os", rows("os"))],
        "browser": [("browser", rows("browser"))],
        "country": [("country", rows("country"))],
        "region": [("region", rows("region"))],
        "city": [("city", rows("city"))],
        "platform": [("platform", lambda: [platform_shares(stats_query)])],
        "screen": [("screen", rows("screen"))],
        "utm": [
            (f"utm_{part}", rows(f"utm_{part}"))
            for part in ("source", "medium", "campaign", "content", "term")
        ],
        "conversion_goals": [("conversion_goals", lambda: _goal_rows(stats_query))],
        "events": [("events", lambda: event_rows(stats_query))],
        "tags": [("tags", lambda: q.tags(stats_query))],
        "hostname": [("hostname", lambda: ps.hostnames(stats_query))],
    }


# The export's flags (Pirsch's names; ``referrer``, ``country``… are no filters there).
EXPORT_FLAGS = frozenset(
    {
        "visitors", "pages", "session_duration", "growth", "languages", "referrer", "os",
        "browser", "country", "region", "city", "platform", "screen", "utm",
        "conversion_goals", "events", "tags", "hostname",
    }
)  # fmt: skip


def _goal_rows(stats_query) -> list[dict]:
    return [
        {
            "name": g["page_goal"]["name"],
            "visitors": g["visitors"],
            "views": g["views"],
            "cr": g["cr"],
        }
        for g in q.goals(stats_query)
    ]


def _csv(rows: list[dict]) -> str:
    """Rows as CSV through the dashboard's writer: a cell a spreadsheet would run as a
    formula (``= + - @``) is neutralised, lists and objects are written as JSON."""
    out = CsvWriter()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out.row(*columns)
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            cells.append(json.dumps(value) if isinstance(value, dict | list) else value)
        out.row(*cells)
    return out.getvalue()


class Statistics(PirschReadView):
    """``GET``: the CSV export; ``DELETE``: delete statistics (``site:manage``)."""

    required_scopes = {"GET": Scope.READ_STATISTICS, "DELETE": Scope.MANAGE_SITE}
    error_statuses = {"*": (400, 401, 403, 404, 405, 429)}
    late_permission_classes = [HasScope]  # the domain is in the query or the body

    @doc.statistics_export
    def get(self, request) -> HttpResponse:
        site = pirsch_site(request.auth, request.GET.get("id", ""), Scope.READ_STATISTICS)
        stats_query = stats_query_for(request, site, EXPORT_FLAGS)
        exports = _exports(stats_query)
        chosen = [name for name in exports if flag(request, name)] or list(exports)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for name in chosen:
                for file_name, read in exports[name]:
                    zipped.writestr(f"{file_name}.csv", _csv(read()))
        response = HttpResponse(archive.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = (
            f'attachment; filename="statistics-{stats_query.first_day}-{stats_query.last_day}.zip"'
        )
        return response

    @doc.statistics_delete
    def delete(self, request) -> HttpResponse:
        """Pirsch's body: ``{"id", "kind", "from", "to"}``; ``kind`` is ``""``/``all``
        (everything), ``events`` (custom events only) or ``imported`` (nothing here: no
        statistics are imported). Without ``from`` and ``to`` every day goes."""
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise PirschError(400, error=["the request body must be JSON"]) from None
        if not isinstance(body, dict):
            raise PirschError(400, validation={"body": "must be a JSON object"})
        values = {k: body.get(k, request.GET.get(k, "")) for k in ("id", "kind", "from", "to")}
        if not all(isinstance(v, str) for v in values.values()):
            raise ParamError(
                next(k for k, v in values.items() if not isinstance(v, str)), "must be a string"
            )
        if values["kind"] not in ("", "all", "events", "imported"):
            raise ParamError("kind", "kind must be empty, all, events or imported")
        site = pirsch_site(request.auth, values["id"], Scope.MANAGE_SITE)
        first = last = None
        if values["from"] or values["to"]:
            try:
                first = ranges.parse_day(values["from"], "from")
                last = ranges.parse_day(values["to"], "to")
                ranges.check_range(first, last)
            except ranges.RangeError as error:
                raise ParamError(error.field, error.message) from error
        if values["kind"] == "imported":
            return Response(status=200)
        events_only = values["kind"] == "events"
        if first is None and not events_only:
            site_stats_reset(site)
        else:
            first = first or date(1970, 1, 1)
            last = last or timezone.now().date() + timedelta(days=1)
            site_stats_delete_range(site, first, last, events_only=events_only)
        return Response(status=200)


statistics = Statistics.as_view()

"""Site settings → Imports: upload Plausible's CSV export, follow its progress, cancel or
delete an import, and download the site's data as Plausible's CSV export (docs/imports.md).

Owners and Admins only (``Action.MANAGE_SETTINGS``); other members get 403, non-members
404 (``sites.views.site_view``). An upload is checked against ``IMPORT_MAX_BYTES`` before
it is read, stored under ``DATA_DIR/imports`` and run by the Celery task
``stats.tasks.import_run`` after the request's transaction commits.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sites.permissions import Action
from sites.views import settings_context, site_view
from stats import imports
from stats.models import Import
from stats.tasks import import_run

MAX_FILES = 20


def _base(site) -> str:
    return f"/sites/{site.public_id}/settings/imports"


def _context(site, role, **extra) -> dict:
    items = imports.imports_for_site(site.pk)
    today = timezone.now().astimezone(ZoneInfo(site.timezone)).date()
    return settings_context(
        site,
        role,
        "imports",
        imports=items,
        busy=any(i.status in (Import.PENDING, Import.RUNNING) for i in items),
        max_mib=settings.IMPORT_MAX_BYTES // (1024 * 1024),
        export_from=(today - timedelta(days=365)).isoformat(),
        export_to=today.isoformat(),
        **extra,
    )


@site_view(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def imports_page(request, site, role):
    if request.method == "GET":
        return render(request, "stats/settings_imports.html", _context(site, role))
    uploads = request.FILES.getlist("files")
    error = ""
    if not uploads:
        error = "Choose the zip (or the CSV files) of Plausible's export."
    elif len(uploads) > MAX_FILES:
        error = f"At most {MAX_FILES} files at once."
    else:
        too_big = [u.name for u in uploads if u.size > settings.IMPORT_MAX_BYTES]
        if too_big:
            error = f"{too_big[0]}: more than {settings.IMPORT_MAX_BYTES} bytes (IMPORT_MAX_BYTES)."
    if error:
        return render(
            request, "stats/settings_imports.html", _context(site, role, error=error), status=400
        )
    files = [(u.name, u.read()) for u in uploads]
    try:
        record, must_run = imports.import_create(
            site=site, kind="plausible", files=files, user=request.user, keep_files=True
        )
    except imports.ImportRefused as exc:
        return render(
            request, "stats/settings_imports.html", _context(site, role, error=str(exc)), status=400
        )
    if must_run:
        transaction.on_commit(lambda: import_run.delay(record.pk))
        messages.success(request, f"Import {record.pk} started.")
    else:
        messages.info(request, f"This file was imported already ({record.pk}): nothing doubled.")
    return redirect(_base(site))


@site_view(Action.MANAGE_SETTINGS)
@require_GET
def imports_progress(request, site, role):
    return render(request, "stats/_imports_table.html", _context(site, role))


def _import_or_404(site, import_id: str) -> Import:
    record = imports.import_get(import_id, site_id=site.pk)
    if record is None:
        raise Http404("No such import.")
    return record


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def import_cancel(request, site, role, import_id: str):
    record = imports.import_cancel(_import_or_404(site, import_id))
    if record.status == Import.CANCELLED:
        messages.success(request, f"Import {record.pk} was cancelled; none of it is shown.")
    else:
        messages.info(request, f"Import {record.pk} is {record.status}: nothing to cancel.")
    return redirect(_base(site))


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def import_delete(request, site, role, import_id: str):
    record = _import_or_404(site, import_id)
    imports.import_delete(record)
    messages.success(request, f"Import {import_id} was deleted.")
    return redirect(_base(site))


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def plausible_export(request, site, role):
    first, last = _day(request.POST.get("from")), _day(request.POST.get("to"))
    if first is None or last is None or last < first:
        return render(
            request,
            "stats/settings_imports.html",
            _context(site, role, export_error="Give a first and a last day (YYYY-MM-DD)."),
            status=400,
        )
    if (last - first).days > 3660:
        return render(
            request,
            "stats/settings_imports.html",
            _context(site, role, export_error="At most ten years at once."),
            status=400,
        )
    data = imports.plausible_export(site, first, last)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{imports.plausible_export_name(site, first, last)}"'
    )
    return response

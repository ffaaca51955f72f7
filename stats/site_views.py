"""The sites list (each site's visitors today and a 30-day trend line) and resetting a
site's statistics: statistics pages reached from the sites app's navigation (the reset
button sits in the site's "Danger zone" settings)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from sites.permissions import Action
from sites.selectors import site_list_for_user
from sites.views import site_view
from stats.selectors import site_trends
from stats.services import site_stats_reset


def sparkline(series: list[int], width: int = 120, height: int = 28) -> dict:
    """SVG polyline points for a small trend line (the top of the box is the maximum)."""
    peak = max(series) if series else 0
    step = width / max(len(series) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (value / peak * (height - 4) if peak else 0):.1f}"
        for i, value in enumerate(series)
    )
    return {"points": points, "width": width, "height": height, "peak": peak, "total": sum(series)}


@login_required
@require_GET
def site_list(request):
    sites = list(site_list_for_user(request.user))
    trends = site_trends(sites)
    rows = [
        {
            "site": site,
            "today": trends[site.pk]["today"],
            "sparkline": sparkline(trends[site.pk]["series"]),
        }
        for site in sites
    ]
    return render(request, "sites/site_list.html", {"rows": rows})


@site_view(Action.RESET_STATS)
@require_POST
def site_reset(request, site, role):
    if request.POST.get("confirm") != "reset":
        messages.error(request, "Tick the box to confirm the reset.")
        return redirect("site_settings_danger", public_id=site.public_id)
    deleted = site_stats_reset(site)
    messages.success(request, f"Statistics reset: {deleted} events deleted.")
    return redirect("site_settings_danger", public_id=site.public_id)

"""What the Footfall snippet loads for a site, and the one tag that installs it.

The core script (page views, custom events, outbound links, downloads, form
submissions, engagement) is always served. The behaviour collectors (the second
file) load only when the site enables them, each switchable in the site's tracking
options; the collection endpoint refuses signals of a collector the site turned off,
so a stale or hand-edited tag cannot collect more than the owner allowed.

The switches are a site's settings (here); ``tracking.snippet`` caches them for the
collection endpoint.
"""

from __future__ import annotations

from django.utils.html import format_html

# (key in ``Site.settings["collectors"]``, label shown in the settings page)
COLLECTORS: tuple[tuple[str, str], ...] = (
    ("clicks", "Frustration signals: rage, dead and phantom clicks"),
    ("errors", "JavaScript errors, promise rejections and console errors/warnings"),
    ("forms", "Form abandonment and field hesitation"),
    ("vitals", "Web vitals: LCP, CLS, INP, FID, TTFB"),
    ("seo", "SEO diagnostics"),
)
COLLECTOR_NAMES = frozenset(name for name, _ in COLLECTORS)

SCRIPT_PATH = "/js/footfall.js"
BEHAVIOUR_SCRIPT_PATH = "/js/footfall.behaviour.js"
COLLECT_PATH = "/api/collect"


def enabled_collectors(site) -> frozenset[str]:
    """The behaviour collectors this site turned on (none unless ``behaviour_collectors``)."""
    if not site.behaviour_collectors:
        return frozenset()
    chosen = (site.settings or {}).get("collectors")
    if not isinstance(chosen, dict):
        # Switching behaviour on without choosing means every collector.
        return COLLECTOR_NAMES
    return frozenset(name for name in COLLECTOR_NAMES if chosen.get(name, True))


def snippet_tag(site, origin: str) -> str:
    """The exact ``<script>`` tag a site owner pastes into their pages.

    ``origin`` is the Footfall server's scheme and host, e.g. ``https://stats.example.com``.
    """
    return format_html(
        '<script defer src="{}{}" data-site="{}"></script>',
        origin.rstrip("/"),
        SCRIPT_PATH,
        site.public_key,
    )

"""The collection endpoint's per-process cache of each site's collector switches.

The core script (page views, custom events, outbound links, downloads, form
submissions, engagement) is always served. The behaviour collectors (the second
file) load only when the site enables them, each switchable in the site's tracking
options; the collection endpoint refuses signals of a collector the site turned off,
so a stale or hand-edited tag cannot collect more than the owner allowed.
"""

from __future__ import annotations

import threading
import time

from sites.models import Site
from sites.snippet import (
    BEHAVIOUR_SCRIPT_PATH,
    COLLECT_PATH,
    COLLECTOR_NAMES,
    COLLECTORS,
    SCRIPT_PATH,
    enabled_collectors,
    snippet_tag,
)

__all__ = [
    "BEHAVIOUR_SCRIPT_PATH",
    "COLLECTORS",
    "COLLECTOR_NAMES",
    "COLLECT_PATH",
    "SCRIPT_PATH",
    "collectors_for_site",
    "enabled_collectors",
    "forget_cached_collectors",
    "snippet_tag",
]


# Collector switches as the collection endpoint sees them: cached per process for as
# long as ``sites.site_lookup`` caches sites, so a settings change reaches ingestion
# within that delay.
COLLECTORS_TTL_SECONDS = 30.0
_collectors_cache: dict[int, tuple[float, frozenset[str]]] = {}
_collectors_lock = threading.Lock()


def collectors_for_site(site_id: int) -> frozenset[str]:
    """``enabled_collectors`` of the site with id ``site_id`` (empty when it is gone)."""
    now = time.monotonic()
    entry = _collectors_cache.get(site_id)
    if entry is not None and entry[0] > now:
        return entry[1]
    site = Site.objects.filter(pk=site_id).only("behaviour_collectors", "settings").first()
    enabled = enabled_collectors(site) if site is not None else frozenset()
    with _collectors_lock:
        if len(_collectors_cache) >= 10_000:
            _collectors_cache.clear()
        _collectors_cache[site_id] = (now + COLLECTORS_TTL_SECONDS, enabled)
    return enabled


def forget_cached_collectors() -> None:
    """Drop the cached switches (tests, and after a site's settings change in this process)."""
    with _collectors_lock:
        _collectors_cache.clear()

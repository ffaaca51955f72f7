"""Puts Django's database cache in its own SQLite file on the embedded default.

Sessions, rate limits and log-in throttles change on nearly every request. In the
events' SQLite file each of those writes would be one more durable commit (and one more
writer waiting for its lock); in a separate file in WAL mode with ``synchronous=NORMAL``
they cost no fsync, and losing the last ones to a power cut loses only cache entries.
"""

from __future__ import annotations

CACHE_DATABASE = "cache"
CACHE_APP_LABEL = "django_cache"  # the label of DatabaseCache's CacheEntry model


class EmbeddedCacheRouter:
    def db_for_read(self, model, **hints) -> str | None:
        return CACHE_DATABASE if model._meta.app_label == CACHE_APP_LABEL else None

    def db_for_write(self, model, **hints) -> str | None:
        return self.db_for_read(model, **hints)

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        # The cache file holds the cache table only, and the cache table lives only there.
        if db == CACHE_DATABASE or app_label == CACHE_APP_LABEL:
            return db == CACHE_DATABASE and app_label == CACHE_APP_LABEL
        return None

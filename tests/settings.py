"""Settings for pytest: the product's settings plus two defaults, so `pytest` runs without make.

- ``SECRET_KEY`` gets a test value when the environment has none (production still refuses to
  start without one: ``tests/test_settings.py`` loads ``analytics_project.settings`` itself).
- Without ``REDIS_URL`` the embedded default keeps its cache in a database table, which a test
  could only reach inside a database fixture (the autouse ``cache.clear()`` in
  ``tests/conftest.py`` runs for every test). Tests then use an in-process cache instead; the
  shared table is exercised by the tests that start real embedded processes
  (``tests/test_embedded_*.py``).

``make test`` sets ``DATABASE_URL``, ``REDIS_URL`` and ``SECRET_KEY`` itself (PostgreSQL and
Redis); with nothing set the tests run on the embedded default (SQLite).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key")

from analytics_project.settings import *  # noqa: F403
from analytics_project.settings import REDIS_URL

if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    DATABASES.pop("cache", None)  # noqa: F405
    DATABASE_ROUTERS: list[str] = []

"""gunicorn settings for Footfall (``gunicorn -c gunicorn.conf.py analytics_project.wsgi``)."""

import gc
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"  # keep-alive connections for trackers and SDKs
keepalive = 30
accesslog = os.environ.get("ACCESS_LOG", "-")
# The combined format, but never a client address, a tracked visitor's user agent or a
# credential from a query string (analytics_project/access_log.py, docs/security.md).
logger_class = "analytics_project.access_log.PrivateAccessLogger"
# The application is imported and warmed once, in the master, and the workers are forked
# from it: they share those pages instead of each holding its own copy of Django, the
# product's modules, the user-agent patterns and the exchange rates (docs/decisions.md,
# issue #18: all processes together under 600 MB). WEB_PRELOAD=0 imports in each worker.
preload_app = os.environ.get("WEB_PRELOAD", "1") != "0"


def when_ready(server):
    """In the master, after the preloaded application: warm it, then hand the workers no
    open connection (each opens its own) and objects the collector will not touch (a
    collection writes to every object it scans, which would unshare their pages)."""
    if not preload_app:
        return
    from django.db import connections

    from analytics_project.redis_client import reset_clients
    from tracking.warmup import warm_up

    warm_up()
    connections.close_all()
    reset_clients()
    gc.freeze()


def post_worker_init(worker):
    """Warm the ingestion hot path in each worker before it takes requests (without
    ``preload_app``; with it, the master did and this finds everything loaded)."""
    from tracking.warmup import warm_up

    warm_up()

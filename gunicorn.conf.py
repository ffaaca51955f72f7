"""gunicorn settings for Footfall (``gunicorn -c gunicorn.conf.py analytics_project.wsgi``)."""

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


def post_worker_init(worker):
    """Warm the ingestion hot path in each worker before it takes requests."""
    from tracking.warmup import warm_up

    warm_up()

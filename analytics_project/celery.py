"""The Celery app: Redis broker in production, in-process (eager) in the embedded default."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "analytics_project.settings")

app = Celery("footfall")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

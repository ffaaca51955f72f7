"""Benchmark settings: the product's settings plus a do-nothing comparison view."""

from analytics_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

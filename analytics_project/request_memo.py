"""Values read once per HTTP request.

A statistics answer is made of several plans and sources (totals, revenue, a breakdown's
shares), and each used to read the same small facts again: how far the rollups have read
(``stats.query.coverage``) and the site's reporting currency (``sites.selectors``). Within
one request ``remembered`` reads such a fact once and keeps it until the request ends, so
every part of the answer also sees the same value. Outside requests (rollups, commands,
Celery tasks) nothing is kept: every call reads. Whoever changes a kept fact inside a
request (a rollup run by an eager task, a settings form) makes the owner call ``forget``,
from a model signal next to the reader.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.signals import request_finished, request_started
from django.dispatch import receiver

T = TypeVar("T")

# (namespace, key...) → value, during a request; None outside requests.
_kept: ContextVar[dict[tuple[Hashable, ...], Any] | None] = ContextVar("request_memo", default=None)


@receiver(request_started, dispatch_uid="request-memo-started")
def _request_started(**kwargs: Any) -> None:
    _kept.set({})


@receiver(request_finished, dispatch_uid="request-memo-finished")
def _request_finished(**kwargs: Any) -> None:
    _kept.set(None)


def remembered(key: tuple[Hashable, ...], read: Callable[[], T]) -> T:
    """``read()``, once per request for ``key`` (its first item names the fact)."""
    kept = _kept.get()
    if kept is None:
        return read()
    if key not in kept:
        kept[key] = read()
    return kept[key]


def forget(namespace: str) -> None:
    """Drop the kept values of one fact (all its keys): the next call reads again."""
    kept = _kept.get()
    if kept:
        for key in [key for key in kept if key[0] == namespace]:
            del kept[key]


def active() -> bool:
    """Whether values are being kept (inside a request)."""
    return _kept.get() is not None

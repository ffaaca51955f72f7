"""Funnel writes: create, update, delete, each validated (docs/funnels.md, "Definition").

Permissions are the caller's business (Owners and Admins: ``sites.permissions``
``MANAGE_SETTINGS``); these functions only enforce the definition's rules."""

from __future__ import annotations

from sites.models import Site
from stats.funnels.steps import StepError, parse_steps, parse_window
from stats.models import Funnel, Goal

MAX_FUNNELS_PER_SITE = 100
MAX_NAME = 200


def _clean(site: Site, data: dict, current: Funnel | None = None) -> dict:
    """Validated fields from ``data`` (missing ones keep ``current``'s or the defaults:
    visitor scope, sequential, closed, 24 hours, as Plausible)."""
    base = {
        "name": current.name if current else None,
        "steps": current.steps if current else None,
        "scope": current.scope if current else "visitor",
        "order": current.order if current else "sequential",
        "window_seconds": current.window_seconds if current else 86_400,
        "open": current.open if current else False,
    }
    if "name" in data:
        base["name"] = data["name"]
    name = base["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise StepError("name", f"name must be a text of 1 to {MAX_NAME} characters")
    if any(ord(c) < 32 for c in name):
        raise StepError("name", "name must not hold control characters")
    goal_ids = set(Goal.objects.filter(site=site).values_list("pk", flat=True))
    steps = parse_steps(data.get("steps", base["steps"]), goal_ids)
    scope = data.get("scope", base["scope"])
    if scope not in Funnel.SCOPES:
        raise StepError("scope", "scope must be visitor or session")
    order = data.get("order", base["order"])
    if order not in Funnel.ORDERS:
        raise StepError("order", "order must be sequential, strict or any")
    if "window" in data:
        window = parse_window(data["window"])
    elif "window_seconds" in data:
        window = parse_window(data["window_seconds"])
    else:
        window = base["window_seconds"]
    is_open = data.get("open", base["open"])
    if not isinstance(is_open, bool):
        raise StepError("open", "open must be true or false")
    if is_open and order == "any":
        raise StepError("open", "an open funnel needs sequential or strict order")
    return {
        "name": name.strip(),
        "steps": [step.as_json() for step in steps],
        "scope": scope,
        "order": order,
        "window_seconds": window,
        "open": is_open,
    }


def funnel_create(site: Site, data: dict) -> Funnel:
    fields = _clean(site, data)
    if Funnel.objects.filter(site=site).count() >= MAX_FUNNELS_PER_SITE:
        raise StepError("name", f"a site has at most {MAX_FUNNELS_PER_SITE} funnels")
    return Funnel.objects.create(site=site, **fields)


def funnel_update(funnel: Funnel, data: dict) -> Funnel:
    fields = _clean(funnel.site, data, funnel)
    for name, value in fields.items():
        setattr(funnel, name, value)
    funnel.save()
    return funnel


def funnel_delete(funnel: Funnel) -> None:
    funnel.delete()

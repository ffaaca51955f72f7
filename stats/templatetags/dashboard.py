"""Template helpers for the dashboard and the site navigation."""

from __future__ import annotations

from django import template

from sites.permissions import Action, can

register = template.Library()


@register.simple_tag(takes_context=True)
def can_manage_settings(context, site) -> bool:
    """Whether the page's user may open the site's settings (read-only views: never)."""
    if context.get("read_only"):
        return False
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return bool(site is not None and user is not None and can(user, Action.MANAGE_SETTINGS, site))


@register.filter
def percent(value) -> str:
    """0.1234 → "12.3 %"-style share (no trailing zeros past one decimal)."""
    try:
        number = float(value) * 100
    except (TypeError, ValueError):
        return ""
    return f"{number:.0f}%" if number >= 10 or number == 0 else f"{number:.1f}%"


@register.filter
def compact(value) -> str:
    """12345 → "12.3k", 1200000 → "1.2M"; small numbers unchanged."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(number) >= limit:
            scaled = number / limit
            return f"{scaled:.1f}{suffix}" if scaled < 100 else f"{scaled:.0f}{suffix}"
    return f"{number:.0f}" if number == int(number) else f"{number:.1f}"

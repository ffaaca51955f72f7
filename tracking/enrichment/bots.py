"""Known bots: crawler-user-agents' maintained pattern list plus headless browsers.

Reasons: ``empty_user_agent``, ``too_long``, ``headless`` (HeadlessChrome,
PhantomJS, automation tools) and ``crawler`` (the crawler-user-agents list).
"""

from __future__ import annotations

import functools
import re

MAX_LENGTH = 1000
HEADLESS = re.compile(
    r"HeadlessChrome|PhantomJS|SlimerJS|Puppeteer|Playwright|Selenium|WebDriver|Lighthouse"
    r"|Chrome-Lighthouse|Electron/.*HeadlessChrome|jsdom|Cypress",
    re.I,
)


@functools.cache
def _crawlers() -> re.Pattern:
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    return re.compile("|".join(f"(?:{p['pattern']})" for p in CRAWLER_USER_AGENTS_DATA))


@functools.lru_cache(maxsize=10_000)
def bot_reason(user_agent: str) -> str | None:
    """Why this user agent is a bot, or None for a browser."""
    if not isinstance(user_agent, str) or not user_agent.strip():
        return "empty_user_agent"
    if len(user_agent) > MAX_LENGTH:
        return "too_long"
    if HEADLESS.search(user_agent):
        return "headless"
    if _crawlers().search(user_agent):
        return "crawler"
    return None

"""The WSGI entry point: Django, with a lean middleware stack for the ingestion endpoints.

Trackers and SDKs post to a handful of paths hundreds of times a second, and the full
middleware stack (sessions, CSRF, authentication, messages, static files, HTMX) cost
more CPU than a whole Plausible hit's pipeline: a do-nothing view behind it answered at
0.28 × the rate of the same view without it (``bench/ingest``, docs/performance.md). The
ingestion views use none of that: they are CSRF-exempt, read no cookie, session or user,
and serve no static file. So requests to exactly those paths go to a second Django
handler whose stack keeps only the middleware whose work shows in their answers
(forwarded-proto trust, security headers and HTTPS redirect, rate-limit headers, NUL
characters, Content-Length and slash redirects, X-Frame-Options), in the product's order,
and resolves each path's view once. Every other path, the snippet's scripts included, takes the full stack.
``tests/test_ingestion_handler.py`` checks that both give the same answers.
"""

import os

from django.conf import UserSettingsHolder, settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.urls import ResolverMatch, get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "analytics_project.settings")

# The ingestion endpoints (tracking/urls.py), exactly: anything else is not ours to shortcut.
INGESTION_PATHS = frozenset(
    {
        "/api/event",
        "/api/v1/hit",
        "/api/v1/hit/batch",
        "/api/v1/event",
        "/api/v1/event/batch",
        "/api/v1/session",
        "/api/v1/session/batch",
        "/matomo.php",
        "/piwik.php",
        "/log",
        "/log/",
        "/log/custom",
        "/log/hb",
        "/log/error",
        "/log/noscript",
        "/api/collect",
    }
)
# Middleware the ingestion views never use: no cookie, session, user, CSRF token, message,
# static file or HTMX request is read or set on those paths.
NOT_FOR_INGESTION = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django_htmx.middleware.HtmxMiddleware",
        "analytics_project.security.HtmxLoginRedirectMiddleware",
    }
)


def ingestion_middleware(middleware: list[str], csp_excluded: tuple[str, ...]) -> list[str]:
    """The product's middleware, in its order, without what ingestion never uses.

    The CSP middleware builds its policy on every request, even for the paths it then
    leaves without one; it is dropped only while every ingestion path is one of those.
    """
    skip = set(NOT_FOR_INGESTION)
    if all(path.startswith(csp_excluded) for path in INGESTION_PATHS):
        skip.add("csp.middleware.CSPMiddleware")
    return [path for path in middleware if path not in skip]


class IngestionHandler(WSGIHandler):
    """Django's handler for ``INGESTION_PATHS`` only, with a leaner stack (see above).

    Each path's view is resolved once, through the product's own URLconf (so it is the
    view the full stack would call): resolving through every app's patterns cost more
    than some of the views.
    """

    def __init__(self) -> None:
        wrapped = settings._wrapped
        lean = UserSettingsHolder(wrapped)
        csp_excluded = tuple(
            getattr(wrapped, "CONTENT_SECURITY_POLICY", {}).get("EXCLUDE_URL_PREFIXES", ())
        )
        lean.MIDDLEWARE = ingestion_middleware(list(wrapped.MIDDLEWARE), csp_excluded)
        # Django builds a handler's stack from ``settings.MIDDLEWARE`` when it is made: the
        # settings are swapped for that moment only (at import, before any request).
        settings._wrapped = lean
        try:
            super().__init__()
        finally:
            settings._wrapped = wrapped
        resolver = get_resolver()
        self.matches: dict[str, ResolverMatch] = {p: resolver.resolve(p) for p in INGESTION_PATHS}

    def resolve_request(self, request) -> ResolverMatch:
        match = self.matches.get(request.path_info)
        if match is None:
            return super().resolve_request(request)
        request.resolver_match = match
        return match


django_application = get_wsgi_application()
ingestion_handler = IngestionHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO") in INGESTION_PATHS:
        return ingestion_handler(environ, start_response)
    return django_application(environ, start_response)

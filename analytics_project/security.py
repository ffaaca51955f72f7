"""Request hygiene shared by every view, and the hook for embeddable pages.

* ``NulCharacterMiddleware``: PostgreSQL text cannot hold NUL (``\\x00``), and a NUL in a
  URL never means anything; without this every view that passes a path or query value to
  the database would answer a 500 for ``?id=%00``. A NUL in the path answers the site's 404
  (JSON under ``/api/``); NULs in query values are dropped.
* ``HtmxLoginRedirectMiddleware``: when a session has expired, an HTMX request (a panel,
  the live badge, the install box) would follow the redirect to the log-in page and swap
  that page into a corner of the current one; instead the whole page goes to the log-in,
  which returns to it afterwards.
* ``TrustedProxyHeadersMiddleware``: Django believes ``SECURE_PROXY_SSL_HEADER``
  (``X-Forwarded-Proto``) from anyone; a client that talks to us directly could claim its
  plain-http request was https (secure-only cookies, no https redirect, HSTS on http).
  The header is dropped unless the peer is one of ``TRUSTED_PROXIES``. It runs first.
* ``embeddable``: our pages are never framed (``X-Frame-Options: DENY`` and CSP
  ``frame-ancestors 'none'``); a view that must be embeddable (a public shared dashboard)
  is decorated with it to allow framing by any site.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from csp.decorators import csp_replace
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_exempt
from django_htmx.http import HttpResponseClientRedirect

from analytics_project.client_ip import peer_is_trusted_proxy


class TrustedProxyHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_X_FORWARDED_PROTO" in request.META and not peer_is_trusted_proxy(request):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)


class NulCharacterMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            raise Http404("not found")
        if "%00" in request.META.get("QUERY_STRING", ""):
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(key.replace("\x00", ""), [v.replace("\x00", "") for v in values])
            cleaned._mutable = False
            request.GET = cleaned
        return self.get_response(request)


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Status first: the ingestion endpoints never redirect, so they stop here.
        if response.status_code not in (301, 302) or not getattr(request, "htmx", False):
            return response
        login = resolve_url(settings.LOGIN_URL)
        location = urlsplit(response.get("Location", ""))
        if location.path != login:
            return response
        # Back to the page the request came from (same site only), not to the fragment.
        current = urlsplit(request.htmx.current_url or "")
        back = current.path + (f"?{current.query}" if current.query else "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "/"
        return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back or '/'})}")


def embeddable(view: Callable) -> Callable:
    """Allow this view's pages in frames on other sites (public shared dashboards only)."""

    return xframe_options_exempt(csp_replace({"frame-ancestors": ["*"]})(view))

"""The Django REST framework pieces every Bearer-authenticated API shares (issue #19).

- ``BearerAuthentication``: ``Authorization: Bearer …`` through
  ``accounts.authentication.authenticate_bearer`` (OAuth access tokens, ``pa_``, ``sk_live_``
  and ``pl_`` keys, with the credential cache), limited to the subclass's
  ``allowed_kinds``; ``request.user`` is the client's creator, ``request.auth`` the
  ``Principal``. django-oauth-toolkit's own ``OAuth2Authentication`` is not used: it answers
  with an ``AccessToken`` rather than our principal, skips the credential cache and knows no
  keys, so one class covers every credential and every API resolves them the same way.
- ``HasScope``: the principal holds the scope the view names for the request's method.
- ``JsonBytesRenderer`` and ``FirstRendererNegotiation``: JSON written exactly as Django's
  ``JsonResponse`` writes it (the APIs' recorded bytes), whatever the ``Accept`` header.
- ``ApiView``: the base of such views. The method is checked first (405 before any
  credential, as the plain views did; ``HEAD`` and ``OPTIONS`` only when a view defines
  them); ``late_permission_classes`` run after the throttles (a valid credential is
  counted before its scope is checked, as Pirsch does); every refusal goes through the
  view's ``error_response`` so each API answers in its own documented shape, never DRF's
  or an HTML page; a counted request's answer carries the ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.views import APIView

from accounts.authentication import AuthenticationFailed, Principal, authenticate_bearer
from analytics_project.ratelimit import RateLimit, with_rate_limit_headers


class BearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <credential>`` of one of ``allowed_kinds`` → (user, principal).

    ``optional``: without the header the next authentication class (the session) may
    try; otherwise the missing credential is refused with ``authenticate_bearer``'s message.
    """

    allowed_kinds: frozenset[str] = frozenset()
    optional = False

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if self.optional and not header.strip():
            return None
        try:
            principal = authenticate_bearer(header, allowed_kinds=set(self.allowed_kinds))
        except AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return principal.user, principal

    def authenticate_header(self, request) -> str:
        return "Bearer"  # 401, not DRF's 403, for a missing or bad credential


def required_scope(request, view) -> str | None:
    """The scope the view needs for this method: ``required_scopes[method]`` or
    ``required_scope``."""
    scopes = getattr(view, "required_scopes", None) or {}
    return scopes.get(request.method, getattr(view, "required_scope", None))


class HasScope(BasePermission):
    """The principal holds the view's scope for the method (no scope named: allowed).
    ``message`` may use ``{scope}``."""

    message = "the client is missing the scope {scope}"

    def has_permission(self, request, view) -> bool:
        scope = required_scope(request, view)
        if scope is None:
            return True
        principal = request.auth
        if not isinstance(principal, Principal):
            raise exceptions.NotAuthenticated()
        if scope in principal.scopes:
            return True
        raise exceptions.PermissionDenied(self.message.format(scope=scope))


class JsonBytesRenderer(BaseRenderer):
    """JSON as ``django.http.JsonResponse`` writes it (``DjangoJSONEncoder``, ASCII,
    ``", "`` and ``": "`` separators): DRF's ``JSONRenderer`` writes compact UTF-8, which
    would change every answer's bytes. ``None`` renders as an empty body."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return json.dumps(data, cls=DjangoJSONEncoder).encode("utf-8")


class FirstRendererNegotiation(BaseContentNegotiation):
    """The view's first renderer and parser whatever the client asks (no 406 for an
    ``Accept`` header these APIs never honoured)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ApiView(APIView):
    """Base of the Bearer APIs' views; see the module docstring. Subclasses implement
    ``error_response`` (their API's error body for a status and message)."""

    renderer_classes = [JsonBytesRenderer]
    content_negotiation_class = FirstRendererNegotiation
    metadata_class = None
    authentication_classes: list = []
    permission_classes: list = []
    late_permission_classes: list = []
    throttle_classes: list = []

    @property
    def allowed_methods(self) -> list[str]:
        return [
            method.upper()
            for method in self.http_method_names
            if method != "options" and callable(getattr(type(self), method, None))
        ]

    def initial(self, request, *args, **kwargs):
        if request.method not in self.allowed_methods:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def check_throttles(self, request):
        super().check_throttles(request)
        for permission in [cls() for cls in self.late_permission_classes]:
            if not permission.has_permission(request, self):
                self.permission_denied(
                    request,
                    message=getattr(permission, "message", None),
                    code=getattr(permission, "code", None),
                )

    def error_response(self, status: int, message: str, exc: Exception) -> HttpResponse:
        raise NotImplementedError

    def translate_exception(self, exc: Exception) -> HttpResponse | None:
        """A subclass's own exceptions as answers (None: not one of them)."""
        return None

    def get_exception_handler(self):
        return self.api_exception_handler

    def api_exception_handler(self, exc: Exception, context) -> HttpResponse | None:
        response = self.translate_exception(exc)
        if response is not None:
            return response
        if isinstance(exc, RequestDataTooBig):
            return self.error_response(413, "the request body is too large", exc)
        if isinstance(exc, exceptions.APIException):
            detail = exc.detail
            message = detail if isinstance(detail, str) else json.dumps(detail)
            return self.error_response(exc.status_code, str(message), exc)
        return None  # a bug: raised, logged and answered by handler500

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        limit = getattr(getattr(request, "_request", request), "rate_limit", None)
        if isinstance(limit, RateLimit) and "X-RateLimit-Limit" not in response:
            with_rate_limit_headers(response, limit)
        return response

"""The management API's one error shape: ``{"error": {"code", "message", "fields"}}``.

``code`` is a stable word (``invalid``, ``not_authenticated``, ``forbidden``,
``not_found``, ``method_not_allowed``, ``unsupported_media_type``, ``parse_error``,
``throttled``); ``fields`` maps a request field to its messages (empty when the error is
not about one field).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from stats.funnels.steps import StepError

CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    415: "unsupported_media_type",
    429: "throttled",
}


def error_body(status_code: int, message: str, fields: dict | None = None, code: str = "") -> dict:
    return {
        "error": {
            "code": code or CODES.get(status_code, "error"),
            "message": message,
            "fields": fields or {},
        }
    }


def _messages(detail) -> list[str]:
    if isinstance(detail, list):
        return [str(item) for item in detail]
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _messages(v)]
    return [str(detail)]


def django_fields(error: DjangoValidationError) -> tuple[str, dict]:
    if hasattr(error, "error_dict"):
        fields = {
            name: [str(m) for e in errors for m in e.messages]
            for name, errors in error.error_dict.items()
        }
        return "Some fields are not valid.", fields
    return " ".join(error.messages), {}


def to_response(exc) -> Response | None:
    """The error answer for ``exc``; None for exceptions that are not refusals."""
    if isinstance(exc, StepError):
        return Response(error_body(400, exc.message, {exc.field: [exc.message]}), status=400)
    if isinstance(exc, DjangoValidationError):
        message, fields = django_fields(exc)
        return Response(error_body(400, message, fields), status=400)
    if isinstance(exc, Http404):
        return Response(error_body(404, "Not found."), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(error_body(403, str(exc) or "You may not do this."), status=403)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {name: _messages(value) for name, value in detail.items()}
            return Response(error_body(400, "Some fields are not valid.", fields), status=400)
        return Response(error_body(400, " ".join(_messages(detail))), status=400)
    if isinstance(exc, exceptions.ParseError):
        return Response(
            error_body(400, f"Invalid request body: {exc.detail}", code="parse_error"), status=400
        )
    if isinstance(exc, exceptions.APIException):
        code = exc.status_code
        response = Response(error_body(code, " ".join(_messages(exc.detail))), status=code)
        if code == status.HTTP_401_UNAUTHORIZED:
            response["WWW-Authenticate"] = "Bearer"
        return response
    return None

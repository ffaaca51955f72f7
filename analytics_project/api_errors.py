"""Error bodies of the two API families we speak."""

from django.http import JsonResponse


def pirsch_error(
    status: int,
    *,
    validation: dict | None = None,
    error: list[str] | None = None,
    context: dict | None = None,
) -> JsonResponse:
    """Pirsch's shape: ``{"validation": {field: message}, "error": [message], "context": {}}``."""
    return JsonResponse(
        {"validation": validation or {}, "error": error or [], "context": context or {}},
        status=status,
    )


def identity_error(status: int, code: str, message: str) -> JsonResponse:
    """identity-js's shape: ``{"error": {"status", "message", "code"}}``."""
    return JsonResponse(
        {"error": {"status": status, "message": message, "code": code}}, status=status
    )

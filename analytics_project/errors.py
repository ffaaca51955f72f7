"""Site-wide 404 and 500 handlers: JSON under ``/api/``, the HTML pages elsewhere.

API clients must never receive an HTML error page, even for a path that does not exist
or an error no view caught.
"""

from django.http import JsonResponse
from django.views import defaults

from analytics_project.api_errors import pirsch_error


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return pirsch_error(404, error=["not found"])
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            {"validation": {}, "error": ["internal error"], "context": {}}, status=500
        )
    return defaults.server_error(request)

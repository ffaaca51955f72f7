"""``GET /api/v1/domain`` in Pirsch's shape: the sites a client may read, with its role."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.api.auth import pirsch_principal
from accounts.models import Scope
from accounts.selectors import role_label
from analytics_project.api_errors import pirsch_error
from sites.permissions import principal_may, principal_site_role, principal_sites
from sites.selectors import pirsch_domain


@csrf_exempt
def domain(request: HttpRequest) -> JsonResponse:
    if request.method != "GET":
        return pirsch_error(405, error=["method not allowed"])
    principal = pirsch_principal(request, Scope.READ_DOMAINS)
    if isinstance(principal, JsonResponse):
        return principal
    domains = []
    for site in principal_sites(principal).order_by("pk"):
        if principal_may(principal, Scope.READ_DOMAINS, site):
            domains.append(
                pirsch_domain(site, user_role=role_label(principal_site_role(principal, site)))
            )
    return JsonResponse(domains, safe=False)

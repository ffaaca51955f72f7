"""``GET /api/v1/domain`` in Pirsch's shape: the sites a client may read, with its role;
and the domain check of every Pirsch-style endpoint (``pirsch_site``, ``DomainRole``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from accounts.api.auth import PirschAPIView, PirschError
from accounts.api.drf import required_scope
from accounts.models import Scope
from accounts.selectors import role_label
from sites.models import Site
from sites.permissions import principal_may, principal_site_role, principal_sites
from sites.selectors import pirsch_domain


def pirsch_site(principal, site_id: str, scope: str) -> Site:
    """The domain ``site_id`` names and ``scope`` allows there, or the refusal: another
    tenant's domain is not found; one the client sees but may not change is forbidden."""
    if not site_id:
        raise PirschError(400, validation={"id": "id is required"})
    site = principal_sites(principal).filter(public_id=site_id).first()
    if site is not None and principal_may(principal, scope, site):
        return site
    if site is None or scope == Scope.READ_STATISTICS:
        raise exceptions.NotFound("domain not found")
    raise exceptions.PermissionDenied("the client may not do this for this domain")


class DomainRole(BasePermission):
    """The ``id`` query parameter names a domain on which the client's creator's role
    allows the view's scope; the site is left on the view as ``site``."""

    def has_permission(self, request, view) -> bool:
        scope = required_scope(request, view)
        view.site = pirsch_site(request.auth, request.query_params.get("id", ""), scope)
        return True


class DomainList(PirschAPIView):
    required_scope = Scope.READ_DOMAINS
    openapi_tag = "Pirsch account"
    error_statuses = {"*": (401, 403, 405, 429)}

    @extend_schema(
        operation_id="pirschDomain",
        summary="The client's sites as Pirsch domain objects (needs `domains:read`)",
        responses={
            200: OpenApiResponse(
                {"type": "array", "items": {"$ref": "#/components/schemas/PirschDomain"}},
                description="The sites the client may read.",
            )
        },
    )
    def get(self, request) -> Response:
        principal = request.auth
        domains = []
        for site in principal_sites(principal).order_by("pk"):
            if principal_may(principal, Scope.READ_DOMAINS, site):
                domains.append(
                    pirsch_domain(site, user_role=role_label(principal_site_role(principal, site)))
                )
        return Response(domains)


domain = DomainList.as_view()

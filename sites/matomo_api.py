"""The part of Matomo's Reporting API that Matomo's log importer (``import_logs.py``) calls.

``/?module=API&method=…&format=json`` and ``/index.php?module=API…``, parameters in the query
string or a form body (the importer POSTs them as a form to ``/``). Only the ``SitesManager``
methods the importer needs are answered, in Matomo's JSON shapes:

- ``SitesManager.getSiteFromId`` (``idSite``)        → the site, with ``main_url``
- ``SitesManager.getAllSites``                        → ``{"<idsite>": site, …}``
- ``SitesManager.getSitesIdFromSiteUrl`` (``url``)    → ``[{"idsite": N}, …]``
- ``SitesManager.addSite`` (``siteName``, ``urls[]``) → ``{"value": N}``

Errors use Matomo's shape, ``{"result": "error", "message": …}``, with HTTP 200 as Matomo
answers them (the importer reads the message and stops with it). The caller is the
``token_auth`` (a Footfall Matomo key): the get methods need at least view access to the
site (Matomo's rule); a site the token cannot see and a site that does not exist get the same
answer, so nothing tells other tenants' sites apart. ``addSite`` needs an account-wide key
(not one created for a single site): its owner becomes the new site's Owner, as when adding a
site in the product.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.authentication import AuthenticationFailed, Principal, authenticate_bearer
from sites import services
from sites.models import Site, SiteDomain
from sites.permissions import principal_sites

MAX_TOKEN_LENGTH = 512


class ApiError(Exception):
    """Answered as Matomo's ``{"result": "error", "message": …}``."""


def _error(message: str) -> JsonResponse:
    return JsonResponse({"result": "error", "message": message})


def _no_access(site_id: object) -> ApiError:
    return ApiError(
        f"You can't access this resource as it requires 'view' access for the website id = "
        f"{str(site_id)[:20]}."
    )


def is_api_request(request: HttpRequest) -> bool:
    """Whether the request is a Reporting API call (``module=API`` in the query or form)."""
    if request.GET.get("module") == "API":
        return True
    content_type = request.content_type or ""
    return (
        request.method == "POST"
        and content_type == "application/x-www-form-urlencoded"
        and request.POST.get("module") == "API"
    )


def _params(request: HttpRequest) -> dict[str, list[str]]:
    """Query and form parameters, the form winning (Matomo reads ``$_GET + $_POST``)."""
    params: dict[str, list[str]] = {k: request.GET.getlist(k) for k in request.GET}
    if request.method == "POST":
        params.update({k: request.POST.getlist(k) for k in request.POST})
    return params


def _one(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[-1].strip()


def _array(params: dict[str, list[str]], name: str) -> list[str]:
    """A PHP array parameter: ``urls[0]=…&urls[1]=…`` or ``urls[]=…``, in index order."""
    indexed: list[tuple[int, str]] = []
    for key, values in params.items():
        if key == f"{name}[]":
            indexed += [(10**6 + n, v) for n, v in enumerate(values)]
        elif key.startswith(f"{name}[") and key.endswith("]") and key[len(name) + 1 : -1].isdigit():
            indexed.append((int(key[len(name) + 1 : -1]), values[-1]))
    plain = params.get(name) or []
    return [v.strip() for _, v in sorted(indexed)] + [v.strip() for v in plain if v.strip()]


def _principal(params: dict[str, list[str]]) -> Principal:
    token = _one(params, "token_auth")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise ApiError("You must be logged in to access this functionality: send token_auth.")
    try:
        return authenticate_bearer(f"Bearer {token}", allowed_kinds={"matomo"})
    except AuthenticationFailed as exc:
        raise ApiError(
            "The token_auth is invalid or has been revoked (a Footfall Matomo key is needed)."
        ) from exc


def _main_url(site: Site) -> str:
    return f"https://{site.hostname}"


def _site_json(site: Site) -> dict:
    """Matomo's site object; the fields Footfall has no equivalent for keep Matomo's defaults."""
    return {
        "idsite": site.pk,
        "name": site.display_name,
        "main_url": _main_url(site),
        "ts_created": site.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "ecommerce": 0,
        "sitesearch": 1,
        "sitesearch_keyword_parameters": "",
        "sitesearch_category_parameters": "",
        "timezone": site.timezone,
        "currency": site.reporting_currency,
        "exclude_unknown_urls": 0,
        "excluded_ips": "",
        "excluded_parameters": "",
        "excluded_user_agents": "",
        "excluded_referrers": "",
        "group": "",
        "type": "website",
        "keep_url_fragment": 0,
        "creator_login": "",
    }


def _visible_sites(principal: Principal) -> QuerySet[Site]:
    return principal_sites(principal).order_by("pk")


def _site_from_id(principal: Principal, params: dict[str, list[str]]) -> dict:
    raw = _one(params, "idSite") or _one(params, "idsite")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise _no_access(raw)
    site = _visible_sites(principal).filter(pk=int(raw)).first()
    if site is None:
        raise _no_access(raw)
    return _site_json(site)


def _all_sites(principal: Principal, params: dict[str, list[str]]) -> dict:
    # Matomo keys this array by idsite: JSON gives an object, which the importer indexes.
    return {str(site.pk): _site_json(site) for site in _visible_sites(principal)}


def _sites_id_from_url(principal: Principal, params: dict[str, list[str]]) -> list[dict]:
    host = services.normalize_hostname(_one(params, "url"))
    if not host:
        raise ApiError("Please specify a value for 'url'.")
    site_ids = (
        SiteDomain.objects.filter(domain=host, site__in=_visible_sites(principal))
        .values_list("site_id", flat=True)
        .distinct()
        .order_by("site_id")
    )
    return [{"idsite": site_id} for site_id in site_ids]


def _add_site(principal: Principal, params: dict[str, list[str]]) -> dict:
    if principal.site_id is not None:
        raise ApiError(
            "You can't access this resource: a token_auth created for one site cannot add "
            "sites (use a key created for your account)."
        )
    urls = _array(params, "urls")
    if not urls:
        raise ApiError("Please specify a value for 'urls': the new site's main URL.")
    name = _one(params, "siteName") or urls[0]
    try:
        site = services.site_create(
            display_name=name,
            hostname=urls[0],
            aliases=urls[1:],
            timezone=_one(params, "timezone") or "UTC",
            owner=principal.user,
        )
    except ValidationError as exc:
        raise ApiError("The site could not be added: " + " ".join(exc.messages)) from exc
    return {"value": site.pk}


METHODS: dict[str, Callable[[Principal, dict[str, list[str]]], object]] = {
    "SitesManager.getSiteFromId": _site_from_id,
    "SitesManager.getAllSites": _all_sites,
    "SitesManager.getSitesIdFromSiteUrl": _sites_id_from_url,
    "SitesManager.addSite": _add_site,
}


@csrf_exempt  # token_auth is the credential, never a session cookie
def api(request: HttpRequest) -> HttpResponse:
    """One Reporting API call; always JSON, never an HTML page."""
    if request.method not in ("GET", "POST", "HEAD"):
        response = _error("Only GET and POST are supported.")
        response.status_code = 405
        return response
    params = _params(request)
    if _one(params, "module") != "API":
        return _error("Footfall answers only Matomo's Reporting API here: send module=API.")
    output = _one(params, "format").lower()
    if output and output != "json":
        return _error("Footfall answers the Matomo API in JSON only: send format=json.")
    method = _one(params, "method")
    handler = METHODS.get(method)
    if handler is None:
        module = method.split(".", 1)[0][:64] or "API"
        return _error(
            f"The method '{method.split('.', 1)[-1][:64]}' does not exist or is not available "
            f"in the module '{module}'."
        )
    try:
        result = handler(_principal(params), params)
    except ApiError as exc:
        return _error(str(exc))
    response = JsonResponse(result, safe=False)
    response["Cache-Control"] = "no-store"
    return response


def or_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view`` at ``/``, unless the request is a Reporting API call (``module=API``).

    The API is exempt from CSRF (it has no session); ``view`` keeps its protection.
    """
    protected = csrf_protect(view)

    @csrf_exempt
    @functools.wraps(view)
    def dispatch(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if is_api_request(request):
            return api(request)
        return protected(request, *args, **kwargs)

    return dispatch

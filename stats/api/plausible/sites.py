"""Plausible's Sites API: sites, shared links, goals, custom properties and guests.

A key with the ``sites`` scope acts with its creator's current role: reading a site or
changing its goals, links, properties and guests takes Admin (Plausible's owner/admin),
deleting it takes Owner. Another account's site answers exactly like a missing one (404
``Site could not be found``). Writes go through the owning services (``sites.services``,
``sites.sharing``, ``accounts.services``); goals and custom properties, which only this API
and the dashboard's goals use, have their two small services here.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Role
from sites import services as site_services
from sites.models import Site, SiteMembership, validate_timezone
from sites.permissions import Action
from sites.selectors import pending_invitations, site_identifiers
from sites.services import invitation_revoke, invitation_send
from sites.sharing import shared_link_create
from stats.api.plausible.authentication import principal_sites, site_for_principal
from stats.api.plausible.filters import _wildcard_regex
from stats.api.plausible.query import PlausibleError
from stats.api.plausible.views import PlausibleView, SafeJSONParser
from stats.models import Goal

NOT_FOUND = "Site could not be found"
MAX_LIST_LIMIT = 100
PAGE_GOAL_PREFIX = "Visit "
GUEST_ROLES = {"viewer": Role.VIEWER, "editor": Role.ADMIN}
CUSTOM_PROPERTIES = "custom_properties"  # key of ``Site.settings``
MAX_CUSTOM_PROPERTIES = 300


class SitesView(PlausibleView):
    # Plausible's documented examples send form fields (``curl -F``: multipart) or JSON.
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]
    required_scope = "sites"

    def param(self, name: str):
        """A parameter from the JSON/form body, else the query string."""
        data = self.request.data if hasattr(self.request.data, "get") else {}
        value = data.get(name)
        if value is None:
            value = self.request.query_params.get(name)
        return value

    def site(self, site_id, action: Action = Action.MANAGE_SETTINGS) -> Site:
        site = site_for_principal(self.request.auth, site_id, action)
        if site is None:
            raise PlausibleError(NOT_FOUND, status=404)
        return site

    def required(self, name: str, purpose: str) -> str:
        value = self.param(name)
        if value in (None, ""):
            raise PlausibleError(f"Parameter `{name}` is required to {purpose}")
        if not isinstance(value, str):
            raise PlausibleError(f"Parameter `{name}` must be a string")
        return value


def _site_json(site: Site) -> dict:
    return {"domain": site.hostname, "timezone": site.timezone}


def _limit(raw) -> int:
    if raw in (None, ""):
        return MAX_LIST_LIMIT
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise PlausibleError(f"Please provide limit as a number between 1 and {MAX_LIST_LIMIT}.")
    return limit


def _cursor(raw) -> int | None:
    """A goal-list cursor (a goal id); anything else is Plausible's 400."""
    if raw in (None, ""):
        return None
    if not str(raw).isdigit() or len(str(raw)) > 18:
        raise PlausibleError("Invalid pagination cursor")
    return int(raw)


def _validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        field, messages = next(iter(error.message_dict.items()))
        field = "domain" if field == "hostname" else field
        return f"{field} {' '.join(messages)}"  # Plausible's "<field> <message>"
    return " ".join(error.messages)


class SiteList(SitesView):
    """``GET /api/v1/sites`` (cursor ``after``/``before`` = a domain) and ``POST``."""

    def get(self, request):

        limit = _limit(request.query_params.get("limit"))
        sites = principal_sites(request.auth).order_by("hostname", "pk")
        after, before = request.query_params.get("after"), request.query_params.get("before")
        if after:
            sites = sites.filter(hostname__gt=after)
        if before:
            sites = sites.filter(hostname__lt=before).order_by("-hostname", "-pk")
        page = list(sites[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        if before:
            page.reverse()
        meta = {
            "after": page[-1].hostname if page and (more or before) else None,
            "before": page[0].hostname if page and (after or (before and more)) else None,
            "limit": limit,
        }
        return Response({"sites": [_site_json(s) for s in page], "meta": meta})

    def post(self, request):
        domain = self.param("domain")
        if not domain or not isinstance(domain, str):
            raise PlausibleError("domain can't be blank")
        zone = self.param("timezone") or "Etc/UTC"
        try:
            validate_timezone(zone if isinstance(zone, str) else "")
        except ValidationError as error:
            raise PlausibleError("timezone is invalid") from error
        try:
            site = site_services.site_create(
                display_name="", hostname=domain, timezone=zone, owner=request.user
            )
        except ValidationError as error:
            raise PlausibleError(_validation_message(error)) from error
        return Response({**_site_json(site), "footfall": site_identifiers(site)})


class SiteDetail(SitesView):
    """``GET/PUT/DELETE /api/v1/sites/:site_id``."""

    def get(self, request, site_id: str):
        site = self.site(site_id)
        return Response(
            {
                **_site_json(site),
                "custom_properties": list(site.settings.get(CUSTOM_PROPERTIES, [])),
                "footfall": site_identifiers(site),
            }
        )

    def put(self, request, site_id: str):
        site = self.site(site_id)
        domain = self.param("domain")
        if not domain or not isinstance(domain, str):
            raise PlausibleError(
                "Payload must contain at least one of the parameters 'domain', "
                "'tracker_script_configuration'"
            )
        try:
            site = site_services.site_update(
                site=site,
                display_name=site.display_name,
                hostname=domain,
                timezone=site.timezone,
                public=site.public,
            )
        except ValidationError as error:
            raise PlausibleError(_validation_message(error)) from error
        return Response(_site_json(site))

    def delete(self, request, site_id: str):
        site = self.site(site_id, Action.DELETE_SITE)
        site_services.site_delete(site=site)
        return Response({"deleted": True})


class SharedLinks(SitesView):
    """``PUT /api/v1/sites/shared-links``: a new link named ``name``.

    Footfall keeps only a digest of each link's token, so an existing name cannot be
    answered with its URL again (Plausible's find-or-create): that is a 400 naming why.
    """

    def put(self, request):
        site_id = self.required("site_id", "create a shared link")
        name = self.required("name", "create a shared link")
        site = self.site(site_id)
        if site.shared_links.filter(label=name.strip()[:200]).exists():
            raise PlausibleError(
                f"A shared link named `{name}` exists; Footfall shows a link's URL only when it "
                "is created. Use another name, or revoke the link in the site's settings."
            )
        link, token = shared_link_create(site=site, label=name, created_by=request.user)
        return Response({"name": link.label, "url": request.build_absolute_uri(f"/share/{token}/")})


# --- goals ---------------------------------------------------------------------------------


def _goal_json(goal: Goal, site: Site) -> dict:
    page = _page_path(goal) if goal.path_pattern else None
    return {
        "id": goal.pk,
        "domain": site.hostname,
        "display_name": goal.name,
        "goal_type": "page" if goal.path_pattern else "event",
        "event_name": goal.event_name or None,
        "page_path": page,
    }


_WILDCARD_PIECES = ((".*", "**"), ("[^/]*", "*"))


def _page_path(goal: Goal) -> str | None:
    """A page goal's path as Plausible wrote it (wildcards): read back from its pattern when
    the pattern is exactly what that path gives (``_wildcard_regex``), whatever the goal's
    display name; else from a ``Visit <path>`` name (a pattern made in the dashboard)."""
    pattern = goal.path_pattern
    if pattern.startswith("^") and pattern.endswith("$"):
        body, path, index = pattern[1:-1], [], 0
        while index < len(body):
            piece = next((p for p in _WILDCARD_PIECES if body.startswith(p[0], index)), None)
            if piece is not None:
                path.append(piece[1])
                index += len(piece[0])
            elif body[index] == "\\" and index + 1 < len(body):
                path.append(body[index + 1])
                index += 2
            else:
                path.append(body[index])
                index += 1
        candidate = "".join(path)
        if _wildcard_regex(candidate) == pattern:
            return candidate
    if goal.name.startswith(PAGE_GOAL_PREFIX):
        return goal.name[len(PAGE_GOAL_PREFIX) :]
    return None


@transaction.atomic
def goal_find_or_create(
    *, site: Site, goal_type: str, target: str, display_name: str | None = None
) -> Goal:
    """The site's goal for an event name or a page path (Plausible's wildcards), created
    once; a new goal is named ``display_name`` (default: the event name, or ``Visit
    <path>``). Another goal of the site already named so is a ``ValidationError``."""
    if goal_type == "event":
        existing = Goal.objects.filter(site=site, event_name=target, path_pattern="").first()
        default = target
        fields = {"event_name": target}
    else:
        pattern = _wildcard_regex(target)
        default = PAGE_GOAL_PREFIX + target
        existing = (
            Goal.objects.filter(site=site, path_pattern=pattern, event_name="").first()
            or Goal.objects.filter(site=site, name=default[:200], event_name="").first()
        )
        fields = {"path_pattern": pattern}
    if existing is not None:
        return existing
    name = (display_name or default)[:200]
    if Goal.objects.filter(site=site, name=name).exists():
        raise ValidationError("display_name: has already been taken")
    return Goal.objects.create(site=site, name=name, **fields)


class Goals(SitesView):
    """``GET /api/v1/sites/goals`` and ``PUT`` (find or create)."""

    def get(self, request):
        site = self.site(self.required("site_id", "list goals"))
        limit = _limit(request.query_params.get("limit"))
        goals = Goal.objects.filter(site=site).order_by("pk")
        after, before = (_cursor(request.query_params.get(k)) for k in ("after", "before"))
        if after is not None:
            goals = goals.filter(pk__gt=after)
        if before is not None:
            goals = goals.filter(pk__lt=before).order_by("-pk")
        page = list(goals[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        if before is not None:
            page.reverse()
        meta = {  # cursors are goal ids, as the sites list's are domains
            "after": str(page[-1].pk) if page and (more or before is not None) else None,
            "before": (
                str(page[0].pk)
                if page and (after is not None or (before is not None and more))
                else None
            ),
            "limit": limit,
        }
        return Response({"goals": [_goal_json(g, site) for g in page], "meta": meta})

    def put(self, request):
        site_id = self.required("site_id", "create a goal")
        goal_type = self.required("goal_type", "create a goal")
        site = self.site(site_id)
        if goal_type not in ("event", "page"):
            raise PlausibleError("goal_type must be `event` or `page`")
        field = "event_name" if goal_type == "event" else "page_path"
        target = self.required(field, "create a goal")
        if len(target) > 190 or (goal_type == "page" and not target.startswith("/")):
            raise PlausibleError(f"{field} is invalid")
        display_name = self.param("display_name")
        if display_name is not None and (
            not isinstance(display_name, str) or not display_name.strip()
        ):
            raise PlausibleError("display_name is invalid")
        try:
            goal = goal_find_or_create(
                site=site,
                goal_type=goal_type,
                target=target,
                display_name=display_name.strip() if display_name else None,
            )
        except ValidationError as error:
            raise PlausibleError(_validation_message(error)) from error
        return Response(_goal_json(goal, site))


class GoalDetail(SitesView):
    """``DELETE /api/v1/sites/goals/:goal_id`` (``site_id`` in the body or query)."""

    def delete(self, request, goal_id: str):
        site = self.site(self.required("site_id", "delete a goal"))
        deleted = 0
        if goal_id.isdigit() and len(goal_id) < 19:
            deleted, _ = Goal.objects.filter(site=site, pk=int(goal_id)).delete()
        if not deleted:
            raise PlausibleError("Goal could not be found", status=404)
        return Response({"deleted": True})


# --- custom properties ----------------------------------------------------------------------


@transaction.atomic
def custom_property_set(*, site: Site, name: str, present: bool) -> bool:
    """Add or remove an allowed custom property; True when the list changed."""
    locked = Site.objects.select_for_update().get(pk=site.pk)
    names = list(locked.settings.get(CUSTOM_PROPERTIES, []))
    if present == (name in names):
        return False
    if present and len(names) >= MAX_CUSTOM_PROPERTIES:
        raise PlausibleError(f"A site has at most {MAX_CUSTOM_PROPERTIES} custom properties.")
    names = sorted({*names, name}) if present else [n for n in names if n != name]
    locked.settings = {**locked.settings, CUSTOM_PROPERTIES: names}
    locked.save(update_fields=["settings", "modified_at"])
    return True


class CustomProperties(SitesView):
    """``PUT /api/v1/sites/custom-props``: allow a property."""

    def put(self, request):
        site = self.site(self.required("site_id", "create a custom property"))
        name = self.required("property", "create a custom property").strip()
        if not name or len(name) > 64:
            raise PlausibleError("property is invalid")
        custom_property_set(site=site, name=name, present=True)
        return Response({"created": True})


class CustomPropertyDetail(SitesView):
    """``DELETE /api/v1/sites/custom-props/:property``."""

    def delete(self, request, prop: str):
        site = self.site(self.required("site_id", "delete a custom property"))
        custom_property_set(site=site, name=prop, present=False)
        return Response({"deleted": True})


# --- guests ---------------------------------------------------------------------------------


def _role_name(role: str) -> str:
    return {"viewer": "viewer", "admin": "editor", "owner": "owner"}[role]


class Guests(SitesView):
    """``GET /api/v1/sites/guests`` (members and pending invitations) and ``PUT`` (invite)."""

    def get(self, request):

        site = self.site(self.required("site_id", "list guests"))
        limit = _limit(request.query_params.get("limit"))
        guests = [
            {"email": m.user.email, "role": _role_name(m.role), "status": "accepted"}
            for m in SiteMembership.objects.filter(site=site)
            .exclude(role=Role.OWNER)
            .select_related("user")
            .order_by("user__email")
        ]
        guests += [
            {"email": i.email, "role": _role_name(i.role), "status": "invited"}
            for i in pending_invitations(site)
        ]
        meta = {"after": None, "before": None, "limit": limit}
        return Response({"guests": guests[:limit], "meta": meta})

    def put(self, request):

        site = self.site(self.required("site_id", "invite a guest"))
        email = self.required("email", "invite a guest").strip().lower()
        role_name = self.required("role", "invite a guest")
        if role_name not in GUEST_ROLES:
            raise PlausibleError("role must be `viewer` or `editor`")
        member = SiteMembership.objects.filter(site=site, user__email__iexact=email).first()
        if member is not None:
            return Response({"email": email, "role": _role_name(member.role), "status": "accepted"})
        try:
            with transaction.atomic():  # with the mail: no invitation left if it cannot go
                invitation, token = site_services.member_invite(
                    site=site, actor=request.user, email=email, role=GUEST_ROLES[role_name]
                )
                invitation_send(
                    invitation=invitation,
                    accept_url=request.build_absolute_uri(reverse("invitation", args=[token])),
                )
        except ValidationError as error:
            raise PlausibleError(_validation_message(error)) from error
        except PermissionDenied as error:
            raise PlausibleError(NOT_FOUND, status=404) from error
        except OSError as error:
            raise PlausibleError("The invitation email could not be sent.", status=503) from error
        return Response({"email": email, "role": role_name, "status": "invited"})


class GuestDetail(SitesView):
    """``DELETE /api/v1/sites/guests/:email``: a member (not an Owner) or an invitation."""

    def delete(self, request, email: str):

        site = self.site(self.required("site_id", "remove a guest"))
        membership = (
            SiteMembership.objects.filter(site=site, user__email__iexact=email)
            .exclude(role=Role.OWNER)
            .first()
        )
        if membership is not None:
            try:
                site_services.member_remove(site=site, actor=request.user, membership=membership)
            except (PermissionDenied, ValidationError) as error:
                raise PlausibleError(NOT_FOUND, status=404) from error
        for invitation in pending_invitations(site).filter(email__iexact=email):
            invitation_revoke(invitation=invitation)
        return Response({"deleted": True})

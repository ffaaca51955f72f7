"""The management API's viewsets: parse with the input serializer, call one service, render
with the output serializer. Site resources live under ``sites/<public_id>/`` (the site's
public id); the caller's role decides (``access.site_for``)."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.authentication import Principal
from accounts.selectors import api_clients_for_user
from accounts.services import api_client_create, api_client_revoke
from sites.models import Site
from sites.permissions import Action, role_allows
from stats.api.manage import serializers as s
from stats.api.manage.access import ManageKeyAuthentication, ManageSessionAuthentication, site_for
from stats.api.manage.errors import error_body, to_response
from stats.api.plausible.throttling import PlausibleKeyThrottle, limit_message
from stats.api.plausible.views import SafeJSONParser, _has_nul
from stats.funnels import services as funnel_services
from stats.models import Funnel, Goal, Import
from stats.notifications import services as notification_services
from stats.notifications.models import Alert, Report, Webhook

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
ERRORS = {
    code: OpenApiResponse(response=ERROR_SCHEMA, description=description)
    for code, description in (
        (400, "Invalid request (`fields` names the fields)"),
        (401, "No or a wrong credential"),
        (403, "The caller's role may not do this"),
        (404, "No such site or resource (another account's looks the same)"),
        (405, "Method not allowed"),
        (415, "Not JSON"),
        (429, "The key's hourly limit (PLAUSIBLE_API_RATE_LIMIT)"),
    )
}


def responses(ok_status: int, ok) -> dict:
    return {ok_status: ok, **ERRORS}


class ManageViewSet(viewsets.GenericViewSet):
    authentication_classes = [ManageKeyAuthentication, ManageSessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [PlausibleKeyThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [SafeJSONParser]
    object_kwarg = ""  # the URL parameter naming one object

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        values = [*request.query_params.values(), *kwargs.values()]
        if any(_has_nul(value) for value in values):
            raise exceptions.ValidationError("Values must not contain NUL characters.")

    def throttled(self, request, wait):
        response_limit = getattr(request._request, "rate_limit", None)
        limit = response_limit.limit if response_limit else 0
        raise exceptions.Throttled(wait=wait, detail=limit_message(limit))

    def handle_exception(self, exc):
        response = to_response(exc)
        if response is None:
            return super().handle_exception(exc)
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response

    def site(self, action: Action) -> tuple[Site, object]:
        return site_for(self.request, self.kwargs.get("public_id", ""), action)

    def object_id(self) -> str:
        return self.kwargs[self.object_kwarg]

    def input(self, serializer_class, *, partial: bool = False) -> dict:
        if not isinstance(self.request.data, dict):
            raise exceptions.ValidationError("The body must be a JSON object.")
        if _has_nul(self.request.data):
            raise exceptions.ValidationError("Values must not contain NUL characters.")
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def owned(self, model, action: Action = Action.MANAGE_SETTINGS):
        """The URL's object of ``model`` on the URL's site (404 for any other site's)."""
        site, _role = self.site(action)
        found = model.objects.filter(site=site, pk=self.pk(self.object_id())).first()
        if found is None:
            raise Http404
        return found

    @staticmethod
    def pk(raw) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError) as exc:
            raise Http404 from exc
        if not 0 < value < 2**31:
            raise Http404
        return value


# --- funnels -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="A site's funnels", responses=responses(200, s.FunnelSerializer(many=True))
    ),
    retrieve=extend_schema(summary="One funnel", responses=responses(200, s.FunnelSerializer)),
    create=extend_schema(
        summary="Create a funnel (Owners, Admins)",
        request=s.FunnelInputSerializer,
        responses=responses(201, s.FunnelSerializer),
    ),
    partial_update=extend_schema(
        summary="Change a funnel (Owners, Admins)",
        request=s.FunnelInputSerializer,
        responses=responses(200, s.FunnelSerializer),
    ),
    destroy=extend_schema(
        summary="Delete a funnel (Owners, Admins)", responses=responses(204, None)
    ),
)
class FunnelViewSet(ManageViewSet):
    object_kwarg = "funnel_id"
    serializer_class = s.FunnelSerializer
    http_method_names = ["get", "post", "patch", "delete"]

    def _funnel(self, action: Action) -> Funnel:
        return self.owned(Funnel, action)

    def list(self, request, **kwargs):
        site, _role = self.site(Action.VIEW_STATS)
        return Response(s.FunnelSerializer(Funnel.objects.filter(site=site), many=True).data)

    def retrieve(self, request, **kwargs):
        return Response(s.FunnelSerializer(self._funnel(Action.VIEW_STATS)).data)

    def create(self, request, **kwargs):
        site, _role = self.site(Action.MANAGE_SETTINGS)
        funnel = funnel_services.funnel_create(site, dict(self.input(s.FunnelInputSerializer)))
        return Response(s.FunnelSerializer(funnel).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, **kwargs):
        funnel = self._funnel(Action.MANAGE_SETTINGS)
        data = dict(self.input(s.FunnelInputSerializer, partial=True))
        funnel = funnel_services.funnel_update(funnel, data)
        return Response(s.FunnelSerializer(funnel).data)

    def destroy(self, request, **kwargs):
        funnel_services.funnel_delete(self._funnel(Action.MANAGE_SETTINGS))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- reports -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Report subscriptions (Viewers: their own)",
        responses=responses(200, s.ReportSerializer(many=True)),
    ),
    retrieve=extend_schema(
        summary="One report subscription", responses=responses(200, s.ReportSerializer)
    ),
    create=extend_schema(
        summary="Subscribe an address (Viewers: their own) to a site's report",
        request=s.ReportInputSerializer,
        responses=responses(201, s.ReportSerializer),
    ),
    destroy=extend_schema(summary="Unsubscribe", responses=responses(204, None)),
)
class ReportViewSet(ManageViewSet):
    """As the dashboard's reports page: Owners and Admins manage every subscription,
    Viewers subscribe and see only their own address."""

    object_kwarg = "report_id"
    serializer_class = s.ReportSerializer
    http_method_names = ["get", "post", "delete"]

    def _reports(self):
        site, role = self.site(Action.VIEW_STATS)
        reports = Report.objects.filter(site=site).order_by("pk")
        manager = role_allows(role, Action.MANAGE_SETTINGS)
        return (
            site,
            manager,
            reports if manager else reports.filter(email__iexact=self.request.user.email),
        )

    def _report(self) -> Report:
        _site, _manager, reports = self._reports()
        report = reports.filter(pk=self.pk(self.object_id())).first()
        if report is None:
            raise Http404
        return report

    def list(self, request, **kwargs):
        _site, _manager, reports = self._reports()
        return Response(s.ReportSerializer(reports, many=True).data)

    def retrieve(self, request, **kwargs):
        return Response(s.ReportSerializer(self._report()).data)

    def create(self, request, **kwargs):
        site, manager, _reports = self._reports()
        data = self.input(s.ReportInputSerializer)
        own = request.user.email
        email = data.get("email") or own
        if not manager and email.lower() != own.lower():
            raise exceptions.PermissionDenied("Viewers may subscribe their own address only.")
        report = notification_services.report_create(
            site=site,
            email=email,
            frequency=data["frequency"],
            user=None if manager else request.user,
            created_by=request.user,
        )
        return Response(s.ReportSerializer(report).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, **kwargs):
        notification_services.report_delete(report=self._report())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- webhooks ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="A site's webhooks", responses=responses(200, s.WebhookSerializer(many=True))
    ),
    retrieve=extend_schema(summary="One webhook", responses=responses(200, s.WebhookSerializer)),
    create=extend_schema(
        summary="Add a webhook; its signing secret is in this answer only",
        request=s.WebhookInputSerializer,
        responses=responses(201, s.WebhookCreatedSerializer),
    ),
    destroy=extend_schema(summary="Remove a webhook", responses=responses(204, None)),
)
class WebhookViewSet(ManageViewSet):
    object_kwarg = "webhook_id"
    serializer_class = s.WebhookSerializer
    http_method_names = ["get", "post", "delete"]

    def _webhook(self) -> Webhook:
        return self.owned(Webhook)

    def list(self, request, **kwargs):
        site, _role = self.site(Action.MANAGE_SETTINGS)
        hooks = Webhook.objects.filter(site=site).order_by("pk")
        return Response(s.WebhookSerializer(hooks, many=True).data)

    def retrieve(self, request, **kwargs):
        return Response(s.WebhookSerializer(self._webhook()).data)

    def create(self, request, **kwargs):
        site, _role = self.site(Action.MANAGE_SETTINGS)
        data = self.input(s.WebhookInputSerializer)
        webhook, secret = notification_services.webhook_create(
            site=site, url=data["url"], format=data["format"], name=data.get("name", "")
        )
        body = {**s.WebhookSerializer(webhook).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, **kwargs):
        notification_services.webhook_delete(webhook=self._webhook())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- alerts --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="A site's alerts", responses=responses(200, s.AlertSerializer(many=True))
    ),
    retrieve=extend_schema(summary="One alert", responses=responses(200, s.AlertSerializer)),
    create=extend_schema(
        summary="Create an alert (spike, drop, no-data, goal, error)",
        request=s.AlertInputSerializer,
        responses=responses(201, s.AlertSerializer),
    ),
    destroy=extend_schema(summary="Delete an alert", responses=responses(204, None)),
)
class AlertViewSet(ManageViewSet):
    object_kwarg = "alert_id"
    serializer_class = s.AlertSerializer
    http_method_names = ["get", "post", "delete"]

    def _alert(self) -> Alert:
        return self.owned(Alert)

    def list(self, request, **kwargs):
        site, _role = self.site(Action.MANAGE_SETTINGS)
        alerts = Alert.objects.filter(site=site).prefetch_related("webhooks").order_by("pk")
        return Response(s.AlertSerializer(alerts, many=True).data)

    def retrieve(self, request, **kwargs):
        return Response(s.AlertSerializer(self._alert()).data)

    def create(self, request, **kwargs):
        site, _role = self.site(Action.MANAGE_SETTINGS)
        data = self.input(s.AlertInputSerializer)
        goal = None
        if data.get("goal") is not None:
            goal = Goal.objects.filter(site=site, pk=data["goal"]).first()
            if goal is None:
                raise exceptions.ValidationError({"goal": ["No such goal on this site."]})
        options = {
            name: data[name]
            for name in ("threshold", "hours", "metric", "cooldown_hours")
            if name in data
        }
        alert = notification_services.alert_create(
            site=site,
            kind=data["kind"],
            emails=data.get("emails", []),
            webhook_ids=data.get("webhooks", []),
            goal=goal,
            **options,
        )
        return Response(s.AlertSerializer(alert).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, **kwargs):
        notification_services.alert_delete(alert=self._alert())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- imports -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="A site's imports, newest first (Owners, Admins)",
        responses=responses(200, s.ImportSerializer(many=True)),
    ),
    retrieve=extend_schema(
        summary="One import and its progress", responses=responses(200, s.ImportSerializer)
    ),
)
class ImportViewSet(ManageViewSet):
    """Read-only: imports are started from the dashboard or ``manage.py import`` (issue
    #16); their status, progress and errors are read here."""

    object_kwarg = "import_id"
    serializer_class = s.ImportSerializer
    http_method_names = ["get"]

    def list(self, request, **kwargs):
        site, _role = self.site(Action.MANAGE_SETTINGS)
        imports = Import.objects.filter(site=site).order_by("-created_at")[:1000]
        return Response(s.ImportSerializer(imports, many=True).data)

    def retrieve(self, request, **kwargs):
        site, _role = self.site(Action.MANAGE_SETTINGS)
        imported = Import.objects.filter(site=site, pk=str(self.object_id())[:40]).first()
        if imported is None:
            raise Http404
        return Response(s.ImportSerializer(imported).data)


# --- API clients ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="The caller's API clients (account-level and per site), newest first",
        responses=responses(200, s.ClientSerializer(many=True)),
    ),
    retrieve=extend_schema(summary="One API client", responses=responses(200, s.ClientSerializer)),
    create=extend_schema(
        summary="Create an API client (dashboard session only); its secret is in this answer only",
        request=s.ClientInputSerializer,
        responses=responses(201, s.ClientCreatedSerializer),
    ),
    destroy=extend_schema(
        summary="Revoke an API client (dashboard session only)", responses=responses(204, None)
    ),
)
class ClientViewSet(ManageViewSet):
    """A key may list its creator's clients, but only the dashboard session makes or
    revokes them: a key never mints or kills keys. Secrets are stored hashed and shown in
    the ``create`` answer only (``accounts.services.api_client_create``)."""

    object_kwarg = "client_id"
    serializer_class = s.ClientSerializer
    http_method_names = ["get", "post", "delete"]

    def _clients(self):
        return (
            api_clients_for_user(self.request.user)
            .select_related("site")
            .order_by("-created_at", "-pk")
        )

    def _client(self):
        client = self._clients().filter(public_id=str(self.object_id())[:20]).first()
        if client is None:
            raise Http404
        return client

    def _session_only(self):
        if isinstance(self.request.auth, Principal):
            raise exceptions.PermissionDenied(
                "API clients are created and revoked from a dashboard session, not with a key."
            )

    def list(self, request, **kwargs):
        return Response(s.ClientSerializer(self._clients()[:1000], many=True).data)

    def retrieve(self, request, **kwargs):
        return Response(s.ClientSerializer(self._client()).data)

    def create(self, request, **kwargs):
        self._session_only()
        data = self.input(s.ClientInputSerializer)
        site = None
        if data.get("site"):
            site, _role = site_for(request, data["site"], Action.MANAGE_CLIENTS)
        client, payload = api_client_create(
            user=request.user,
            type=data["type"],
            site=site,
            scopes=data.get("scopes") or None,
            description=data.get("description", ""),
        )
        secrets = {k: payload[k] for k in ("key", "client_id", "client_secret") if k in payload}
        body = {**s.ClientSerializer(client).data, **secrets}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, **kwargs):
        self._session_only()
        api_client_revoke(client=self._client())
        return Response(status=status.HTTP_204_NO_CONTENT)


def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under ``/api/manage/``: the API's error shape, not an HTML page."""
    return JsonResponse(error_body(404, "Not found."), status=404)

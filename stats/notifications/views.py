"""Settings pages for reports, alerts and webhooks, the test buttons, and the public
signed unsubscribe page.

Owners and Admins manage everything of a site; Viewers see the Reports page only, to
subscribe themselves and manage their own subscriptions. Objects of another site are
404 (looked up within the site), a role that is too weak gets 403 (``sites.views``).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sites.permissions import Action, role_allows
from sites.views import settings_context as sites_settings_context
from sites.views import site_view
from stats.models import Goal
from stats.notifications import services
from stats.notifications.channels import read_unsubscribe_token
from stats.notifications.forms import AlertForm, ReportForm, SelfReportForm, WebhookForm
from stats.notifications.models import Alert, DeliveryStatus, Report, Webhook


def settings_context(site, role, section: str, **extra) -> dict:
    return {
        **sites_settings_context(site, role, section, **extra),
        "may_manage": role_allows(role, Action.MANAGE_SETTINGS),
    }


def _form_errors(form, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` on the form (by field when it names one)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _base(site) -> str:
    return f"/sites/{site.public_id}/settings"


def _outcome_message(request, outcome: dict | None, what: str) -> None:
    if outcome and outcome.get("status") == DeliveryStatus.SENT:
        messages.success(request, f"Test {what} sent to {outcome['recipient']}.")
    else:
        error = (outcome or {}).get("error") or "not sent"
        recipient = (outcome or {}).get("recipient", "")
        messages.error(request, f"Test {what} to {recipient} failed: {error}")


# --- reports ---------------------------------------------------------------------------


def _own_reports(site, user, manager: bool):
    reports = Report.objects.filter(site=site)
    return reports if manager else reports.filter(email__iexact=user.email)


@site_view(Action.VIEW_STATS)
@require_http_methods(["GET", "POST"])
def reports_page(request, site, role):
    manager = role_allows(role, Action.MANAGE_SETTINGS)
    form_class = ReportForm if manager else SelfReportForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"] if manager else request.user.email
        try:
            services.report_create(
                site=site,
                email=email,
                frequency=form.cleaned_data["frequency"],
                user=None if manager else request.user,
                created_by=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, f"{email} will receive the {form.cleaned_data['frequency']} report."
            )
            return redirect(f"{_base(site)}/reports")
    return render(
        request,
        "notifications/settings_reports.html",
        settings_context(
            site,
            role,
            "reports",
            form=form,
            reports=_own_reports(site, request.user, manager),
            manager=manager,
        ),
        status=400 if form.is_bound else 200,
    )


def _report_or_404(request, site, role, report_id: int) -> Report:
    manager = role_allows(role, Action.MANAGE_SETTINGS)
    report = _own_reports(site, request.user, manager).filter(pk=report_id).first()
    if report is None:
        raise Http404("No such report.")
    return report


@site_view(Action.VIEW_STATS)
@require_POST
def report_delete(request, site, role, report_id: int):
    report = _report_or_404(request, site, role, report_id)
    services.report_delete(report=report)
    messages.success(request, f"{report.email} no longer receives the {report.frequency} report.")
    return redirect(f"{_base(site)}/reports")


@site_view(Action.VIEW_STATS)
@require_POST
def report_test(request, site, role, report_id: int):
    report = _report_or_404(request, site, role, report_id)
    _outcome_message(request, services.report_send_test(report=report), "report")
    return redirect(f"{_base(site)}/reports")


# --- alerts ----------------------------------------------------------------------------


def _alert_form(site, data=None) -> AlertForm:
    return AlertForm(
        data,
        goals=Goal.objects.filter(site=site),
        webhooks=Webhook.objects.filter(site=site),
    )


@site_view(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def alerts_page(request, site, role):
    form = _alert_form(site, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        goal = Goal.objects.filter(site=site, pk=data["goal"]).first() if data["goal"] else None
        try:
            services.alert_create(
                site=site,
                kind=data["kind"],
                threshold=data["threshold"],
                hours=data["hours"],
                emails=data["emails"],
                webhook_ids=[int(pk) for pk in data["webhooks"]],
                goal=goal,
                metric=data["metric"] or "conversions",
                cooldown_hours=data["cooldown_hours"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "The alert was added.")
            return redirect(f"{_base(site)}/alerts")
    alerts = Alert.objects.filter(site=site).select_related("goal").prefetch_related("webhooks")
    return render(
        request,
        "notifications/settings_alerts.html",
        settings_context(site, role, "alerts", form=form, alerts=alerts),
        status=400 if form.is_bound else 200,
    )


def _alert_or_404(site, alert_id: int) -> Alert:
    alert = Alert.objects.filter(site=site, pk=alert_id).select_related("site", "goal").first()
    if alert is None:
        raise Http404("No such alert.")
    return alert


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def alert_delete(request, site, role, alert_id: int):
    services.alert_delete(alert=_alert_or_404(site, alert_id))
    messages.success(request, "The alert was removed.")
    return redirect(f"{_base(site)}/alerts")


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def alert_test(request, site, role, alert_id: int):
    outcomes = services.alert_send_test(alert=_alert_or_404(site, alert_id))
    for outcome in outcomes:
        _outcome_message(request, outcome, "alert")
    return redirect(f"{_base(site)}/alerts")


# --- webhooks --------------------------------------------------------------------------


def _webhooks_context(site, role, form, **extra) -> dict:
    return settings_context(
        site, role, "webhooks", form=form, webhooks=Webhook.objects.filter(site=site), **extra
    )


@site_view(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def webhooks_page(request, site, role):
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook, secret = services.webhook_create(site=site, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            # The secret is shown this once: no redirect, and the page is not cached.
            response = render(
                request,
                "notifications/settings_webhooks.html",
                _webhooks_context(
                    site, role, WebhookForm(), created=webhook, created_secret=secret
                ),
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "notifications/settings_webhooks.html",
        _webhooks_context(site, role, form),
        status=400 if form.is_bound else 200,
    )


def _webhook_or_404(site, webhook_id: int) -> Webhook:
    webhook = Webhook.objects.filter(site=site, pk=webhook_id).select_related("site").first()
    if webhook is None:
        raise Http404("No such webhook.")
    return webhook


@site_view(Action.MANAGE_SETTINGS)
@require_GET
def webhook_log(request, site, role, webhook_id: int):
    webhook = _webhook_or_404(site, webhook_id)
    deliveries = webhook.deliveries.prefetch_related("tries")[:50]
    return render(
        request,
        "notifications/webhook_log.html",
        settings_context(site, role, "webhooks", webhook=webhook, deliveries=deliveries),
    )


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def webhook_delete(request, site, role, webhook_id: int):
    services.webhook_delete(webhook=_webhook_or_404(site, webhook_id))
    messages.success(request, "The webhook was removed.")
    return redirect(f"{_base(site)}/webhooks")


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def webhook_test(request, site, role, webhook_id: int):
    webhook = _webhook_or_404(site, webhook_id)
    _outcome_message(request, services.webhook_send_test(webhook=webhook), "message")
    return redirect(f"{_base(site)}/webhooks/{webhook.pk}")


# --- unsubscribe (public) --------------------------------------------------------------


@csrf_exempt  # the signed token is the credential; mail clients POST without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a confirmation button (link scanners only GET); POST unsubscribes, both
    from that button and from mail clients' one-click ``List-Unsubscribe-Post`` (RFC 8058)."""
    data = read_unsubscribe_token(token)
    if data is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "GET":
        return render(
            request, "notifications/unsubscribe.html", {"token": token, "email": data["e"]}
        )
    result = services.unsubscribe(token)
    return render(request, "notifications/unsubscribe.html", {"done": True, "result": result})

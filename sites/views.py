"""Adding a site, the site settings pages and accepting an invitation.

The sites list (with its trend lines) and resetting statistics are statistics pages
(``stats.site_views``).

Views are thin: resolve the site and the user's role (``sites.permissions``), parse a
form, call one service, render. A user without any role on a site gets 404 (nothing
leaks about other tenants); a member whose role is too weak gets 403. Actions a role
may not take are neither shown nor accepted.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import ApiClientForm
from accounts.models import ApiClient, Role
from accounts.selectors import site_clients
from accounts.services import api_client_create, api_client_revoke
from sites import services
from sites.forms import (
    ConfirmHostnameForm,
    InviteForm,
    RoleForm,
    SiteForm,
    SiteGeneralForm,
    TrackingForm,
)
from sites.models import Site, SiteMembership
from sites.permissions import Action, role_allows, site_role
from sites.selectors import invitation_for_token, pending_invitations, site_identifiers
from sites.services import invitation_accept, invitation_revoke, invitation_send
from sites.sharing import shared_link_create, shared_link_revoke, shared_links_for_site
from sites.site_lookup import TTL_SECONDS
from sites.snippet import COLLECTORS, enabled_collectors, snippet_tag
from sites.verification import FILE_PATH, TXT_PREFIX

# (section, label, the action needed to open it)
SECTIONS = (
    ("general", "General", Action.MANAGE_SETTINGS),
    ("install", "Install", Action.MANAGE_SETTINGS),
    ("members", "Members", Action.MANAGE_MEMBERS),
    ("clients", "API clients", Action.MANAGE_CLIENTS),
    ("tracking", "Tracking", Action.MANAGE_SETTINGS),
    ("danger", "Danger zone", Action.DELETE_SITE),
)


def forbidden(request, site: Site | None = None):
    return render(request, "sites/forbidden.html", {"site": site}, status=403)


def site_view(action: Action):
    """Resolve ``public_id`` to the site; 404 without a role on it, 403 if the role is too weak."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, public_id: str, *args, **kwargs):
            site = Site.objects.filter(public_id=public_id).first()
            role = site_role(request.user, site) if site is not None else None
            if role is None:
                raise Http404("No such site.")
            if not role_allows(role, action):
                return forbidden(request, site)
            try:
                return view(request, site, role, *args, **kwargs)
            except PermissionDenied:
                return forbidden(request, site)

        return wrapper

    return decorate


def settings_context(site: Site, role: Role, section: str, **extra) -> dict:
    sections = [
        {
            "key": key,
            "label": label,
            "url": reverse(f"site_settings_{key}", args=[site.public_id]),
        }
        for key, label, action in SECTIONS
        if role_allows(role, action)
    ]
    return {"site": site, "role": role, "section": section, "sections": sections, **extra}


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _form_errors(form, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` on the form (by field when it names one)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- Adding a site -----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def site_new(request):
    """Add a site: its creator becomes its Owner, then sees how to install the snippet."""
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"{site.display_name} was added. Install the snippet next.")
            return redirect("site_settings_install", public_id=site.public_id)
    return render(request, "sites/site_new.html", {"form": form})


@site_view(Action.MANAGE_SETTINGS)
@require_GET
def settings_index(request, site, role):
    return redirect("site_settings_general", public_id=site.public_id)


# --- General ------------------------------------------------------------------------


def _general_initial(site: Site) -> dict:
    return {
        "display_name": site.display_name,
        "hostname": site.hostname,
        "timezone": site.timezone,
        "public": site.public,
        "reporting_currency": site.reporting_currency,
    }


@site_view(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def settings_general(request, site, role):
    form = SiteGeneralForm(request.POST or None, initial=_general_initial(site))
    if request.method == "POST" and form.is_valid():
        try:
            services.site_update(site=site, **form.cleaned_data)
        except ValidationError as error:
            site.refresh_from_db()
            _form_errors(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect("site_settings_general", public_id=site.public_id)
    return render(
        request,
        "sites/settings_general.html",
        settings_context(
            site,
            role,
            "general",
            form=form,
            links=shared_links_for_site(site),
            **_verification_context(site),
        ),
    )


def _verification_context(site: Site) -> dict:
    return {
        "domains": site.domains.order_by("domain"),
        "verification_txt": f"{TXT_PREFIX}{site.verification_token}",
        "verification_path": FILE_PATH,
    }


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def site_verify(request, site, role):
    """Look for the verification token now (DNS, then the file; a few seconds at most)."""
    proved = services.site_verify_domains(site=site)
    if proved:
        names = ", ".join(f"{domain} ({how})" for domain, how in proved.items())
        messages.success(request, f"Verified: {names}.")
    else:
        messages.error(
            request,
            "The token was not found: add the TXT record or the file, then try again "
            "(DNS changes can take a while to appear).",
        )
    return redirect(
        reverse("site_settings_general", args=[site.public_id]) + "#hostname-verification"
    )


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def shared_link_new(request, site, role):
    """Create a shared link and show its URL this once (it is stored only as a digest)."""
    link, token = shared_link_create(
        site=site,
        label=request.POST.get("label", ""),
        password=request.POST.get("password", ""),
        created_by=request.user,
    )
    response = render(
        request,
        "sites/settings_general.html",
        settings_context(
            site,
            role,
            "general",
            form=SiteGeneralForm(initial=_general_initial(site)),
            links=shared_links_for_site(site),
            new_link_url=request.build_absolute_uri(reverse("shared_link", args=[token])),
            new_link=link,
            **_verification_context(site),
        ),
    )
    response["Cache-Control"] = "no-store"
    return response


@site_view(Action.MANAGE_SETTINGS)
@require_POST
def shared_link_delete(request, site, role, link_id: int):
    if shared_link_revoke(site=site, link_id=link_id):
        messages.success(request, "The shared link was revoked.")
    return redirect("site_settings_general", public_id=site.public_id)


# --- Install ------------------------------------------------------------------------


@site_view(Action.MANAGE_SETTINGS)
@require_GET
def settings_install(request, site, role):
    origin = request.build_absolute_uri("/").rstrip("/")
    return render(
        request,
        "sites/settings_install.html",
        settings_context(
            site,
            role,
            "install",
            origin=origin,
            tag=snippet_tag(site, origin),
            ids=site_identifiers(site),
            collectors=sorted(enabled_collectors(site)),
        ),
    )


@site_view(Action.MANAGE_SETTINGS)
@require_GET
def install_status(request, site, role):
    """The "waiting for the first event" box, polled by HTMX until an event has arrived."""
    return render(request, "sites/_install_status.html", {"site": site})


# --- Members ------------------------------------------------------------------------


def _members_page(request, site, role, invite_form=None, status=200):
    memberships = site.memberships.select_related("user").order_by("user__email")
    is_owner = role == Role.OWNER
    rows = [
        {
            "membership": m,
            # Admins may not touch Owners; nobody edits themselves here except to leave.
            "editable": is_owner or m.role != Role.OWNER,
            "role_choices": [c for c in Role.choices if is_owner or c[0] != Role.OWNER],
        }
        for m in memberships
    ]
    return render(
        request,
        "sites/settings_members.html",
        settings_context(
            site,
            role,
            "members",
            rows=rows,
            invitations=pending_invitations(site),
            invite_form=invite_form or InviteForm(allow_owner=is_owner),
            can_transfer=role_allows(role, Action.TRANSFER_OWNERSHIP),
            transfer_choices=[m for m in memberships if m.user_id != request.user.pk],
        ),
        status=status,
    )


@site_view(Action.MANAGE_MEMBERS)
@require_GET
def settings_members(request, site, role):
    return _members_page(request, site, role)


@site_view(Action.MANAGE_MEMBERS)
@require_POST
def member_invite(request, site, role):
    form = InviteForm(request.POST, allow_owner=role == Role.OWNER)
    if not form.is_valid():
        if "role" in form.errors and request.POST.get("role") == Role.OWNER:
            return forbidden(request, site)
        return _members_page(request, site, role, invite_form=form, status=400)
    try:
        # One transaction with the mail: if it cannot be sent, no invitation is left behind.
        with transaction.atomic():
            invitation, token = services.member_invite(
                site=site, actor=request.user, **form.cleaned_data
            )
            invitation_send(
                invitation=invitation,
                accept_url=request.build_absolute_uri(reverse("invitation", args=[token])),
            )
    except ValidationError as error:
        _form_errors(form, error)
        return _members_page(request, site, role, invite_form=form, status=400)
    except OSError:  # smtplib's errors are OSErrors: the mail server is down or refused it
        form.add_error(
            None, "The invitation email could not be sent, so nothing was saved. Try again later."
        )
        return _members_page(request, site, role, invite_form=form, status=503)
    messages.success(request, f"An invitation was sent to {invitation.email}.")
    return redirect("site_settings_members", public_id=site.public_id)


def _membership(site, membership_id: int) -> SiteMembership:
    return get_object_or_404(SiteMembership, pk=membership_id, site=site)


@site_view(Action.MANAGE_MEMBERS)
@require_POST
def member_role(request, site, role, membership_id: int):
    membership = _membership(site, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
    else:
        try:
            services.member_role_change(
                site=site, actor=request.user, membership=membership, role=form.cleaned_data["role"]
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, f"{membership.user.email}'s role was changed.")
    return redirect("site_settings_members", public_id=site.public_id)


@site_view(Action.MANAGE_MEMBERS)
@require_POST
def member_remove(request, site, role, membership_id: int):
    membership = _membership(site, membership_id)
    try:
        services.member_remove(site=site, actor=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"{membership.user.email} was removed.")
        if membership.user_id == request.user.pk:
            return redirect("site_list")
    return redirect("site_settings_members", public_id=site.public_id)


@site_view(Action.TRANSFER_OWNERSHIP)
@require_POST
def member_transfer(request, site, role):
    membership_id = request.POST.get("membership", "")
    if not membership_id.isdigit():
        messages.error(request, "Choose the member who becomes the Owner.")
        return redirect("site_settings_members", public_id=site.public_id)
    membership = _membership(site, int(membership_id))
    try:
        services.ownership_transfer(site=site, actor=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("site_settings_members", public_id=site.public_id)
    messages.success(request, f"{membership.user.email} is now the Owner; you are an Admin.")
    if role_allows(site_role(request.user, site), Action.MANAGE_MEMBERS):
        return redirect("site_settings_members", public_id=site.public_id)
    return redirect("site_list")


@site_view(Action.MANAGE_MEMBERS)
@require_POST
def invitation_delete(request, site, role, invitation_id: int):
    invitation = get_object_or_404(pending_invitations(site), pk=invitation_id)
    if invitation.role == Role.OWNER and role != Role.OWNER:
        return forbidden(request, site)
    invitation_revoke(invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("site_settings_members", public_id=site.public_id)


# --- API clients --------------------------------------------------------------------


def _clients_page(request, site, role, form=None, created=None, status=200):
    response = render(
        request,
        "sites/settings_clients.html",
        settings_context(
            site,
            role,
            "clients",
            clients=site_clients(site),
            form=form or ApiClientForm(),
            created=created,
        ),
        status=status,
    )
    if created:
        response["Cache-Control"] = "no-store"
    return response


@site_view(Action.MANAGE_CLIENTS)
@require_GET
def settings_clients(request, site, role):
    return _clients_page(request, site, role)


@site_view(Action.MANAGE_CLIENTS)
@require_POST
def client_new(request, site, role):
    """Create a client and render its secret in this response only (nothing stores it)."""
    form = ApiClientForm(request.POST)
    if not form.is_valid():
        return _clients_page(request, site, role, form=form, status=400)
    try:
        client, payload = api_client_create(
            user=request.user,
            site=site,
            type=form.cleaned_data["type"],
            scopes=form.cleaned_data["scopes"] or None,
            description=form.cleaned_data["description"],
        )
    except ValidationError as error:
        _form_errors(form, error)
        return _clients_page(request, site, role, form=form, status=400)
    return _clients_page(request, site, role, created={"client": client, "payload": payload})


@site_view(Action.MANAGE_CLIENTS)
@require_POST
def client_revoke(request, site, role, client_id: str):
    client = get_object_or_404(ApiClient, public_id=client_id, site=site)
    api_client_revoke(client=client)
    messages.success(request, f"{client.masked_secret} was revoked; it stops working at once.")
    return redirect("site_settings_clients", public_id=site.public_id)


# --- Tracking -----------------------------------------------------------------------


@site_view(Action.MANAGE_SETTINGS)
@require_http_methods(["GET", "POST"])
def settings_tracking(request, site, role):
    stored = (site.settings or {}).get("collectors")
    initial = {
        "bot_filter": site.bot_filter,
        "excluded_ips": "\n".join(site.excluded_ips or []),
        "respect_dnt": site.respect_dnt,
        "long_lived_visitor_ids": site.long_lived_visitor_ids,
        "behaviour_collectors": site.behaviour_collectors,
        "retention_days": site.retention_days,
    }
    for name, _label in COLLECTORS:
        # Unchosen collectors default to on, as ``enabled_collectors`` reads them.
        initial[f"collector_{name}"] = (
            bool(stored.get(name, True)) if isinstance(stored, dict) else True
        )
    form = TrackingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_tracking_update(
                site=site,
                bot_filter=form.cleaned_data["bot_filter"],
                excluded_ips=services.parse_excluded_ips(form.cleaned_data["excluded_ips"]),
                respect_dnt=form.cleaned_data["respect_dnt"],
                long_lived_visitor_ids=form.cleaned_data["long_lived_visitor_ids"],
                behaviour_collectors=form.cleaned_data["behaviour_collectors"],
                collectors=form.collectors(),
                retention_days=form.cleaned_data["retention_days"],
            )
        except ValidationError as error:
            site.refresh_from_db()
            _form_errors(form, error)
        else:
            messages.success(request, "Tracking options saved.")
            return redirect("site_settings_tracking", public_id=site.public_id)
    return render(
        request,
        "sites/settings_tracking.html",
        settings_context(site, role, "tracking", form=form, cache_seconds=int(TTL_SECONDS)),
        status=400 if form.is_bound else 200,
    )


# --- Danger zone --------------------------------------------------------------------


@site_view(Action.DELETE_SITE)
@require_GET
def settings_danger(request, site, role):
    return render(
        request,
        "sites/settings_danger.html",
        settings_context(
            site, role, "danger", delete_form=ConfirmHostnameForm(hostname=site.hostname)
        ),
    )


@site_view(Action.DELETE_SITE)
@require_POST
def site_delete(request, site, role):
    form = ConfirmHostnameForm(request.POST, hostname=site.hostname)
    if not form.is_valid():
        return render(
            request,
            "sites/settings_danger.html",
            settings_context(site, role, "danger", delete_form=form),
            status=400,
        )
    name = site.display_name
    services.site_delete(site=site)
    messages.success(request, f"{name} and all its statistics were deleted.")
    return redirect("site_list")


# --- Invitations (the emailed link) --------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    """The emailed link: log in or sign up with the invited address, then accept."""
    found = invitation_for_token(token)
    if found is None or found.accepted_at is not None:
        return render(request, "accounts/invitation.html", {"state": "invalid"}, status=404)
    if not found.is_pending:
        return render(request, "accounts/invitation.html", {"state": "expired"}, status=410)
    context = {"state": "pending", "invitation": found, "path": request.path}
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.path)
        try:
            invitation_accept(invitation=found, user=request.user)
        except PermissionDenied as error:
            context["error"] = str(error)
            return render(request, "accounts/invitation.html", context, status=403)
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
            return render(request, "accounts/invitation.html", context, status=410)
        messages.success(request, f"You joined {found.site.display_name}.")
        return redirect("dashboard", public_id=found.site.public_id)
    return render(request, "accounts/invitation.html", context)

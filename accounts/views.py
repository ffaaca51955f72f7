"""Sign-up, account settings (profile, password, account-level API clients), invitations."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import ApiClientForm, ProfileForm, SignupForm
from accounts.models import ApiClient
from accounts.selectors import account_clients, invitation_for_token
from accounts.services import (
    api_client_create,
    api_client_revoke,
    invitation_accept,
    user_update_profile,
)

ACCOUNT_SECTIONS = (
    ("profile", "Profile"),
    ("password", "Password"),
    ("clients", "API clients"),
)


def _next_url(request) -> str:
    """A same-site ``next`` parameter (after sign-up: back to an invitation), else ``/``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def signup(request):
    """Create an account and log in; 404 when sign-up is switched off."""
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is disabled.")
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = SignupForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_next_url(request))
    return render(request, "registration/signup.html", {"form": form, "next": _next_url(request)})


def _account_context(section: str, **extra) -> dict:
    sections = [
        {"key": key, "label": label, "url": f"/account/{key}"} for key, label in ACCOUNT_SECTIONS
    ]
    return {"section": section, "sections": sections, **extra}


@login_required
@require_GET
def account_index(request):
    return redirect("/account/profile")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    form = ProfileForm(
        request.POST or None,
        initial={"full_name": user.full_name, "email": user.email},
        user=user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            user_update_profile(user=user, **form.cleaned_data)
        except ValidationError as error:
            user.refresh_from_db()
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Profile saved.")
            return redirect("/account/profile")
    return render(request, "accounts/profile.html", _account_context("profile", form=form))


@login_required
@require_http_methods(["GET", "POST"])
def password(request):
    """Django's password change; the session stays logged in afterwards."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, "Password changed.")
        return redirect("/account/password")
    return render(request, "accounts/password.html", _account_context("password", form=form))


def _clients_page(request, form=None, created=None, status=200):
    response = render(
        request,
        "accounts/clients.html",
        _account_context(
            "clients",
            clients=account_clients(request.user),
            form=form or ApiClientForm(),
            created=created,
        ),
        status=status,
    )
    if created:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def clients(request):
    return _clients_page(request)


@login_required
@require_POST
def client_new(request):
    """An account client sees every site its user may see; its secret is shown here only."""
    form = ApiClientForm(request.POST)
    if not form.is_valid():
        return _clients_page(request, form=form, status=400)
    try:
        client, payload = api_client_create(
            user=request.user,
            type=form.cleaned_data["type"],
            scopes=form.cleaned_data["scopes"] or None,
            description=form.cleaned_data["description"],
        )
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _clients_page(request, form=form, status=400)
    return _clients_page(request, created={"client": client, "payload": payload})


@login_required
@require_POST
def client_revoke(request, client_id: str):
    client = get_object_or_404(ApiClient, public_id=client_id, user=request.user, site=None)
    api_client_revoke(client=client)
    messages.success(request, f"{client.masked_secret} was revoked; it stops working at once.")
    return redirect("/account/clients")


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
        return redirect(f"/sites/{found.site.public_id}/")
    return render(request, "accounts/invitation.html", context)

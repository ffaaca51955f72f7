"""Sign-up (with e-mail verification), account settings (profile, password, account-level
API clients). Accepting an invitation to a site: ``sites.views.invitation``.

Pages a stranger can reach (sign-up, resending a link) answer the same whether or not an
account exists; the difference only ever goes into an e-mail to the address's owner.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import ApiClientForm, EmailOnlyForm, ProfileForm, SignupForm, VerifyForm
from accounts.models import ApiClient
from accounts.selectors import account_clients
from accounts.services import (
    api_client_create,
    api_client_revoke,
    email_change_confirm,
    signup_link_resend,
    signup_request,
    signup_token_user,
    signup_verify,
    user_mark_verified,
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


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


@require_http_methods(["GET", "POST"])
def signup(request):
    """Ask for an account; "check your e-mail" whatever exists. 404 when switched off."""
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is disabled.")
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = SignupForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        next_url = _next_url(request)
        signup_request(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            base_url=_base_url(request),
            next_url="" if next_url == "/" else next_url,  # carried in the signed link
        )
        return redirect("signup_done")
    return render(request, "registration/signup.html", {"form": form, "next": _next_url(request)})


@require_GET
def signup_done(request):
    return render(request, "registration/signup_done.html")


@require_http_methods(["GET", "POST"])
def signup_verify_page(request, token: str):
    """The emailed sign-up link: the password confirms it, then the user is logged in."""
    found = signup_token_user(token)
    if found is None:
        return render(request, "registration/verify.html", {"state": "invalid"}, status=404)
    user, _next = found
    if user.email_verified:
        return render(request, "registration/verify.html", {"state": "done"})
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, next_url = signup_verify(token=token, password=form.cleaned_data["password"])
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            messages.success(request, "Your email address is confirmed.")
            if next_url and url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return redirect(next_url)
            return redirect("site_list")
    context = {"state": "pending", "form": form, "email": user.email}
    return render(request, "registration/verify.html", context)


@require_http_methods(["GET", "POST"])
def signup_verify_resend(request):
    """A new sign-up link; the same answer whether or not such an account waits."""
    form = EmailOnlyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        signup_link_resend(email=form.cleaned_data["email"], base_url=_base_url(request))
        return render(request, "registration/verify_resend.html", {"sent": True})
    return render(request, "registration/verify_resend.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def email_confirm(request, token: str):
    """The link sent to a new address: the logged-in account that asked confirms it."""
    context = {"pending_email": request.user.pending_email}
    if request.method == "POST":
        try:
            email_change_confirm(user=request.user, token=token)
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
            return render(request, "accounts/email_confirm.html", context, status=400)
        messages.success(request, "Your email address was changed.")
        return redirect("account_profile")
    return render(request, "accounts/email_confirm.html", context)


class VerifyingPasswordResetConfirmView(PasswordResetConfirmView):
    """Django's reset; following the emailed reset link also proves the address."""

    def form_valid(self, form):
        response = super().form_valid(form)
        user_mark_verified(user=form.user)
        return response


def _account_context(section: str, **extra) -> dict:
    sections = [
        {"key": key, "label": label, "url": reverse(f"account_{key}")}
        for key, label in ACCOUNT_SECTIONS
    ]
    return {"section": section, "sections": sections, **extra}


@login_required
@require_GET
def account_index(request):
    return redirect("account_profile")


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
            pending = user_update_profile(
                user=user, base_url=_base_url(request), **form.cleaned_data
            )
        except ValidationError as error:
            user.refresh_from_db()
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if pending:
                messages.success(
                    request,
                    f"Profile saved. We sent a link to {user.pending_email}: your log-in "
                    "address changes when you follow it.",
                )
            else:
                messages.success(request, "Profile saved.")
            return redirect("account_profile")
    return render(
        request,
        "accounts/profile.html",
        _account_context("profile", form=form, pending_email=user.pending_email),
    )


@login_required
@require_http_methods(["GET", "POST"])
def password(request):
    """Django's password change; the session stays logged in afterwards."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, "Password changed.")
        return redirect("account_password")
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
    return redirect("account_clients")

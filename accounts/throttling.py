"""Brute-force protection for every password check, and for password-reset mail.

Log-ins: five failed log-ins for one e-mail address from one IP lock that pair for 15
minutes; thirty failures from one IP (any addresses) lock the IP for 15 minutes. The
counting and the lock live in the authentication backend (``ThrottledModelBackend``), so
they hold wherever ``authenticate`` runs: the product's log-in form, the Django admin's
log-in and anything added later share one set of counters. The log-in views check the lock
first and answer 429 with ``Retry-After`` *before* the password is checked, so a locked pair
learns nothing and costs no password hashing. A successful log-in clears its pair.

Password reset: each request may send a mail only while its address (5 an hour) and its
caller (10 an hour) are under their limits; above them the same "check your inbox" page is
shown and no mail is sent, so the answer never tells whether an address has an account.

Counts live in the cache (Redis in production), shared by every worker; keys hold keyed
digests (``ip_digest``), never an address or an e-mail in clear.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from analytics_project.client_ip import client_ip, ip_digest, keyed_digest
from analytics_project.ratelimit import (
    check_rate_limit,
    clear_failures,
    failure_count,
    failure_retry_after,
    record_failure,
)

FAILURES_PER_ACCOUNT = 5
FAILURES_PER_IP = 30
LOCK_SECONDS = 15 * 60
RESET_MAILS_PER_ADDRESS = 5  # an hour
RESET_REQUESTS_PER_CALLER = 10  # an hour
RESET_WINDOW_SECONDS = 3600


def throttle_keys(ip: str, email: str) -> tuple[str, str]:
    """(pair key, IP key): keyed digests, so the cache never holds the address or the IP."""
    pair = keyed_digest(f"{ip}|{email.strip().lower()}")
    return f"login-pair:{pair}", f"login-ip:{ip_digest(ip)}"


def request_throttle_keys(request: HttpRequest, username: str) -> tuple[str, str]:
    return throttle_keys(client_ip(request), username or "")


def login_locked(pair_key: str, ip_key: str) -> int:
    """Seconds until the caller may try again; 0 when not locked."""
    if failure_count(pair_key) >= FAILURES_PER_ACCOUNT:
        return failure_retry_after(pair_key, LOCK_SECONDS)
    if failure_count(ip_key) >= FAILURES_PER_IP:
        return failure_retry_after(ip_key, LOCK_SECONDS)
    return 0


def request_login_locked(request: HttpRequest, username: str) -> int:
    return login_locked(*request_throttle_keys(request, username))


class ThrottledModelBackend(ModelBackend):
    """``ModelBackend`` that refuses locked callers and counts every failed password.

    Refusing raises ``PermissionDenied`` (Django then stops and reports a failed log-in);
    the password is not checked.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:  # authenticate(request, email=…, password=…)
            username = kwargs.pop(get_user_model().USERNAME_FIELD, None)
        if request is None or username is None or password is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        pair_key, ip_key = request_throttle_keys(request, str(username))
        if login_locked(pair_key, ip_key):
            raise PermissionDenied("too many failed log-ins")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(pair_key, LOCK_SECONDS)
            record_failure(ip_key, LOCK_SECONDS)
        else:
            clear_failures(pair_key)
        return user


def locked_message(retry_after: int) -> str:
    minutes = max(1, (retry_after + 59) // 60)
    plural = "s" if minutes != 1 else ""
    return f"Too many failed log-ins. Try again in {minutes} minute{plural}."


class ThrottledLoginView(LoginView):
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if retry_after := request_login_locked(request, request.POST.get("username", "")):
            return self._locked(retry_after)
        return super().post(request, *args, **kwargs)

    def _locked(self, retry_after: int) -> HttpResponse:
        # An unbound form: binding it would check the password we refuse to check.
        form = self.get_form_class()(
            self.request, initial={"username": self.request.POST.get("username", "")[:254]}
        )
        form.cleaned_data = {}
        form.add_error(None, locked_message(retry_after))
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(retry_after)
        return response


def throttled_login(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap another log-in view (the Django admin's): a locked caller gets 429 at once."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            retry_after = request_login_locked(request, request.POST.get("username", ""))
            if retry_after:
                response = HttpResponse(
                    locked_message(retry_after), status=429, content_type="text/plain"
                )
                response["Retry-After"] = str(retry_after)
                return response
        return view(request, *args, **kwargs)

    return wrapper


class ThrottledPasswordResetView(PasswordResetView):
    """Django's reset form; mail is sent only under the per-address and per-caller limits."""

    def form_valid(self, form) -> HttpResponse:
        caller = ip_digest(client_ip(self.request))
        address = keyed_digest(form.cleaned_data["email"].strip().lower())
        per_caller = check_rate_limit(
            f"reset-caller:{caller}", RESET_REQUESTS_PER_CALLER, RESET_WINDOW_SECONDS
        )
        per_address = check_rate_limit(
            f"reset-address:{address}", RESET_MAILS_PER_ADDRESS, RESET_WINDOW_SECONDS
        )
        if per_caller.allowed and per_address.allowed:
            return super().form_valid(form)
        # The page a sent mail shows: the answer must not differ.
        return HttpResponseRedirect(self.get_success_url())

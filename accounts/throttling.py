"""Brute-force protection for the log-in form.

Five failed log-ins for one e-mail address from one IP lock that pair for 15 minutes;
thirty failures from one IP (any addresses) lock the IP for 15 minutes. A locked request
is answered 429 with ``Retry-After`` *before* the password is checked, so a locked pair
learns nothing and costs no password hashing. A successful log-in clears its pair.
Counts live in the cache (Redis in production), shared by every worker.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse

from analytics_project.ratelimit import (
    clear_failures,
    failure_count,
    failure_retry_after,
    record_failure,
)
from tracking.http import client_ip

FAILURES_PER_ACCOUNT = 5
FAILURES_PER_IP = 30
LOCK_SECONDS = 15 * 60


def throttle_keys(ip: str, email: str) -> tuple[str, str]:
    """(pair key, IP key); the address is hashed so the cache never holds it in clear."""
    digest = hashlib.sha256(f"{ip}|{email.strip().lower()}".encode("utf-8", "replace"))
    ip_digest = hashlib.sha256(ip.encode("utf-8", "replace"))
    return f"login-pair:{digest.hexdigest()[:32]}", f"login-ip:{ip_digest.hexdigest()[:32]}"


def login_locked(pair_key: str, ip_key: str) -> int:
    """Seconds until the caller may try again; 0 when not locked."""
    if failure_count(pair_key) >= FAILURES_PER_ACCOUNT:
        return failure_retry_after(pair_key, LOCK_SECONDS)
    if failure_count(ip_key) >= FAILURES_PER_IP:
        return failure_retry_after(ip_key, LOCK_SECONDS)
    return 0


class ThrottledLoginView(LoginView):
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        pair_key, ip_key = throttle_keys(client_ip(request), request.POST.get("username", ""))
        if retry_after := login_locked(pair_key, ip_key):
            return self._locked(retry_after)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            clear_failures(pair_key)
        else:
            record_failure(pair_key, LOCK_SECONDS)
            record_failure(ip_key, LOCK_SECONDS)
        return response

    def _locked(self, retry_after: int) -> HttpResponse:
        # An unbound form: binding it would check the password we refuse to check.
        form = self.get_form_class()(
            self.request, initial={"username": self.request.POST.get("username", "")[:254]}
        )
        form.cleaned_data = {}
        minutes = max(1, (retry_after + 59) // 60)
        plural = "s" if minutes != 1 else ""
        form.add_error(None, f"Too many failed log-ins. Try again in {minutes} minute{plural}.")
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(retry_after)
        return response

"""How drf-spectacular describes the Pirsch-style DRF views (issue #19).

``PirschAutoSchema`` is the views' schema class: each operation gets its view's
``openapi_tag``, the ``X-RateLimit-*`` headers on its success answer when the view is
throttled, and one ``$ref`` to the document's Pirsch error responses for every status the
view can refuse with (``error_statuses``; 429 with ``Retry-After``). The success answer,
parameters and request body come from each view's ``extend_schema``. ``pirschOAuth`` is
the security scheme of ``PirschAuthentication`` (the access tokens of
``POST /api/v1/token``). The referenced components (``PirschError``, ``PirschRateLimited``,
``PirschDomain``…) are defined with the other families' in ``analytics_project/openapi.yaml``.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "Requests allowed in the window",
    "X-RateLimit-Remaining": "Requests left in the window",
    "X-RateLimit-Reset": "When the window ends (epoch seconds)",
}


def error_ref(status: int) -> dict:
    name = "PirschRateLimited" if status == 429 else "PirschError"
    return {"$ref": f"#/components/responses/{name}"}


class PirschAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        tag = getattr(self.view, "openapi_tag", None)
        return [tag] if tag else super().get_tags()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        if self.view.throttle_classes:
            for code, response in responses.items():
                if code.startswith("2"):
                    headers = response.setdefault("headers", {})
                    for name, description in RATE_LIMIT_HEADERS.items():
                        headers.setdefault(
                            name,
                            {
                                "required": True,
                                "description": description,
                                "schema": {"type": "integer", "minimum": 0},
                            },
                        )
        for status in self.view.error_statuses.get(self.method, self.view.error_statuses["*"]):
            responses.setdefault(str(status), error_ref(status))
        return responses


class PirschOAuthScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.auth.PirschAuthentication"
    name = "pirschOAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token from `POST /api/v1/token` (OAuth client "
            "credentials; expires after `OAUTH_TOKEN_LIFETIME_SECONDS`, then 401: fetch a "
            "new one).",
        }

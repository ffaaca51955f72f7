"""How drf-spectacular describes the management API's authentication classes (imported by
``analytics_project.schema`` before a document is generated, which registers them).

Its Bearer key is a Plausible-style ``pl_`` key: the security scheme ``plausibleKey`` (the
hand-written document's name for it); it also takes the dashboard's session cookie
(``cookieAuth``)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PLAUSIBLE_KEY = {
    "type": "http",
    "scheme": "bearer",
    "description": "A `pl_` key: scope `stats` for the Stats API, `sites` for the Sites "
    "and management APIs (docs/api.md).",
}


class ManageKeyScheme(OpenApiAuthenticationExtension):
    target_class = "stats.api.manage.access.ManageKeyAuthentication"
    name = "plausibleKey"

    def get_security_definition(self, auto_schema):
        return PLAUSIBLE_KEY


class ManageSessionScheme(OpenApiAuthenticationExtension):
    target_class = "stats.api.manage.access.ManageSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}

"""django-oauth-toolkit's scopes are Footfall's ``accounts.models.Scope``: one list, not a
copy in the settings. Every client is limited to the scopes it was created with anyway
(``accounts.services.api_client_create``); DOT's defaults meant every scope, as here."""

from oauth2_provider.scopes import BaseScopes

from accounts.models import Scope


class ScopeBackend(BaseScopes):
    def get_all_scopes(self) -> dict[str, str]:
        return {scope.value: str(scope.label) for scope in Scope}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return [scope.value for scope in Scope]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return [scope.value for scope in Scope]

from django.apps import AppConfig


class SitesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sites"

    def ready(self) -> None:
        # accounts (below sites) asks sites whether a user may create a site's clients.
        from accounts.services import site_clients_policy_set
        from sites.permissions import Action, can

        site_clients_policy_set(lambda user, site: can(user, Action.MANAGE_CLIENTS, site))

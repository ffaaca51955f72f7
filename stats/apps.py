from django.apps import AppConfig


class StatsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "stats"

    def ready(self) -> None:
        # Imported here: receivers import models, which cannot load before the registry.
        from sites import signals
        from stats import receivers

        signals.site_deleting.connect(receivers.on_site_deleting, dispatch_uid="stats-delete")
        signals.site_timezone_changed.connect(
            receivers.on_site_timezone_changed, dispatch_uid="stats-timezone"
        )
        signals.site_currency_changed.connect(
            receivers.on_site_currency_changed, dispatch_uid="stats-currency"
        )

from django.apps import AppConfig


class TrackingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracking"

    def ready(self) -> None:
        # A hit for a hostname that several sites claim and none verified is counted as a
        # drop on each claimant (sites.site_lookup cannot import tracking: it is below it).
        from sites import site_lookup
        from tracking.drops import count_unverified_hostname

        site_lookup.on_contested(count_unverified_hostname)

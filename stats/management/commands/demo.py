"""``manage.py demo``: an admin log-in, a demo site and demo traffic, printed for `make run`."""

from django.core.management.base import BaseCommand

from accounts.models import ApiClient, User
from accounts.services import api_client_create, generate_password
from sites.models import Site
from sites.services import site_create, site_tracking_update
from stats.api.plausible.sites import goal_find_or_create
from stats.demo import demo_traffic_send
from stats.funnels.services import funnel_create
from stats.models import Funnel
from stats.notifications.models import Alert, Report
from stats.notifications.services import alert_create, report_create
from tracking.models import Event
from tracking.snippet import COLLECTOR_NAMES

DEMO_EMAIL = "admin@footfall.local"
DEMO_HOSTNAME = "demo.footfall.local"


class Command(BaseCommand):
    help = "Create (or refresh) the demo admin and demo site, and print the admin log-in."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--no-traffic", action="store_true", help="Skip the demo traffic.")

    def handle(self, *args, host, port, no_traffic=False, **options):
        password = generate_password()
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_superuser(email=DEMO_EMAIL, password=password)
        else:
            # A fresh password each run: the previous one was only ever printed.
            user.set_password(password)
            user.email_verified = True  # whoever runs the command administers the install
            user.save(update_fields=["password", "email_verified"])
        # The demo user's own site: another account may also have a site with this name.
        site = Site.objects.filter(hostname=DEMO_HOSTNAME, memberships__user=user).first()
        if site is None:
            site = site_create(
                display_name="Demo site",
                hostname=DEMO_HOSTNAME,
                timezone="Europe/Berlin",
                owner=user,
            )
        if not site.behaviour_collectors:
            # The demo shows every capability: the behaviour collectors are on, as an owner
            # would switch them on in Tracking settings, and site-supplied visitor ids kept.
            site = site_tracking_update(
                site=site,
                bot_filter=site.bot_filter,
                excluded_ips=site.excluded_ips,
                respect_dnt=site.respect_dnt,
                long_lived_visitor_ids=True,  # the shop's returning customers (Matomo _id)
                behaviour_collectors=True,
                collectors=dict.fromkeys(COLLECTOR_NAMES, True),
                retention_days=site.retention_days,
            )
        goal_find_or_create(site=site, goal_type="event", target="Signup")
        goal_find_or_create(site=site, goal_type="page", target="/pricing")
        api_key = self._features(site, user)
        if not no_traffic and not Event.objects.filter(site_id=site.pk).exists():
            sent = demo_traffic_send(site.pk)
            self.stdout.write(f"Sent {sent} demo hits through the ingestion pipeline.")
        base = f"http://{host}:{port}"
        self.stdout.write("")
        self.stdout.write("=" * 60)
        self.stdout.write(f"  Footfall:  {base}/")
        self.stdout.write(f"  Admin:     {base}/admin/")
        self.stdout.write(f"  Log in as: {DEMO_EMAIL}")
        self.stdout.write(f"  Password:  {password}")
        self.stdout.write(
            f"  Demo site: {site.display_name} ({site.hostname}, idsite {site.pk}, id {site.public_id})"
        )
        if api_key:
            self.stdout.write(f"  Plausible API key (shown once): {api_key}")
        self.stdout.write("=" * 60)
        self.stdout.write("")

    def _features(self, site: Site, user: User) -> str:
        """What a site owner would set up, each once: a funnel, a weekly report, alerts and
        a Plausible-API key. Returns the key when it was created by this run."""
        if not Funnel.objects.filter(site=site).exists():
            funnel_create(
                site,
                {
                    "name": "Pricing to sign-up",
                    "steps": [
                        {"type": "page", "path": "/"},
                        {"type": "page", "path": "/pricing"},
                        {"type": "page", "path": "/signup"},
                        {"type": "event", "name": "Signup"},
                    ],
                },
            )
        if not Report.objects.filter(site=site).exists():
            # Sent to the console mail backend on the embedded default.
            report_create(site=site, email=DEMO_EMAIL, frequency="weekly", user=user)
        if not Alert.objects.filter(site=site).exists():
            alert_create(site=site, kind="spike", threshold=50, emails=[DEMO_EMAIL])
            alert_create(site=site, kind="error", emails=[DEMO_EMAIL])
        if ApiClient.objects.filter(site=site, type="plausible").exists():
            return ""
        _client, payload = api_client_create(
            user=user, type="plausible", site=site, description="Demo Plausible-API key"
        )
        return payload["key"]

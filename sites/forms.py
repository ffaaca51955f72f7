"""Forms of the sites pages: input parsing only, the rules live in ``sites.services``."""

from django import forms

from accounts.models import Role
from sites.exchange_rates import reporting_currencies
from sites.models import available_timezones, validate_display_name
from sites.snippet import COLLECTORS


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class SiteForm(forms.Form):
    """Add a site, or change its name, hostname and time zone."""

    display_name = forms.CharField(label="Name", max_length=200, validators=[validate_display_name])
    hostname = forms.CharField(
        label="Hostname",
        max_length=253,
        help_text="The domain your pages are served from, e.g. blog.example.com.",
    )
    timezone = forms.ChoiceField(label="Time zone", initial="UTC", choices=timezone_choices)


def currency_choices() -> list[tuple[str, str]]:

    return [(code, code) for code in reporting_currencies()]


class SiteGeneralForm(SiteForm):
    public = forms.BooleanField(
        label="Public dashboard",
        required=False,
        help_text="Anyone with the link can read this site's dashboard without logging in.",
    )
    reporting_currency = forms.ChoiceField(
        label="Reporting currency",
        initial="EUR",
        required=False,  # left out (older clients, the API): the site keeps its currency
        choices=currency_choices,
        help_text="Revenue in other currencies is converted at the European Central Bank's "
        "rate of its day. Changing it converts the revenue already stored again.",
    )

    def clean_reporting_currency(self) -> str | None:
        return self.cleaned_data["reporting_currency"] or None


class TrackingForm(forms.Form):
    bot_filter = forms.BooleanField(
        label="Filter bots and crawlers", required=False, help_text="Drop known bots."
    )
    excluded_ips = forms.CharField(
        label="Excluded IP addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One address or CIDR range per line (e.g. 203.0.113.7 or 10.0.0.0/8).",
    )
    respect_dnt = forms.BooleanField(
        label="Respect Do Not Track and Global Privacy Control", required=False
    )
    long_lived_visitor_ids = forms.BooleanField(
        label="Long-lived visitor ids",
        required=False,
        help_text="Keep ids your site supplies (Matomo uid, Swetrix profileId) across days.",
    )
    behaviour_collectors = forms.BooleanField(
        label="Load the behaviour collectors",
        required=False,
        help_text="The snippet loads a second script for the signals switched on below.",
    )
    retention_days = forms.IntegerField(
        label="Keep raw events for (days)",
        required=False,
        min_value=1,
        max_value=36500,
        help_text="Leave empty to keep them forever.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in COLLECTORS:
            self.fields[f"collector_{name}"] = forms.BooleanField(label=label, required=False)

    def collector_fields(self):
        return [self[f"collector_{name}"] for name, _ in COLLECTORS]

    def option_fields(self):
        return [self[name] for name in ("bot_filter", "respect_dnt", "long_lived_visitor_ids")]

    def collectors(self) -> dict[str, bool]:
        return {name: self.cleaned_data[f"collector_{name}"] for name, _ in COLLECTORS}


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.VIEWER)

    def __init__(self, *args, allow_owner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_owner:
            self.fields["role"].choices = [c for c in Role.choices if c[0] != Role.OWNER]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ConfirmHostnameForm(forms.Form):
    """Deleting a site: the hostname typed out, so it is never a slip of the mouse."""

    confirm = forms.CharField(label="Type the hostname to confirm", max_length=253)

    def __init__(self, *args, hostname: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.hostname = hostname
        self.fields["confirm"].help_text = f"Type {hostname} exactly."

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip().lower()
        if value != self.hostname:
            raise forms.ValidationError(f"Type {self.hostname} exactly to delete the site.")
        return value

"""Forms of the Reports, Alerts and Webhooks settings: parsing only (rules in ``services``)."""

from __future__ import annotations

import re

from django import forms

from stats.notifications.models import AlertKind, Frequency, GoalMetric, WebhookFormat


class ReportForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="Anyone may receive reports, members or not; every email can unsubscribe.",
    )
    frequency = forms.ChoiceField(label="Every", choices=Frequency.choices, initial="weekly")


class SelfReportForm(forms.Form):
    """A Viewer subscribes themselves: only the frequency is theirs to choose."""

    frequency = forms.ChoiceField(label="Every", choices=Frequency.choices, initial="weekly")


class WebhookForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, required=False)
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="https only; addresses in private networks are refused.",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
    )
    format = forms.ChoiceField(label="Format", choices=WebhookFormat.choices)


class AlertForm(forms.Form):
    kind = forms.ChoiceField(label="When", choices=AlertKind.choices)
    threshold = forms.DecimalField(
        label="Threshold",
        min_value=0,
        max_digits=17,
        decimal_places=2,
        initial=0,
        help_text="Spike: current visitors at or above; drop: visitors below; goal: at or above.",
    )
    hours = forms.IntegerField(
        label="Window (hours)",
        min_value=1,
        max_value=168,
        required=False,
        help_text="Drop, no data and goal alerts look back this far.",
    )
    goal = forms.ChoiceField(label="Goal", required=False)
    metric = forms.ChoiceField(label="Count", choices=GoalMetric.choices, required=False)
    cooldown_hours = forms.IntegerField(
        label="Cooldown (hours)", min_value=1, max_value=168, initial=12
    )
    emails = forms.CharField(
        label="Email recipients",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One address per line or separated by commas.",
    )
    webhooks = forms.MultipleChoiceField(
        label="Webhooks", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, goals=(), webhooks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].choices = [("", "Every goal")] + [(str(g.pk), g.name) for g in goals]
        self.fields["webhooks"].choices = [(str(w.pk), str(w)) for w in webhooks]

    def clean_emails(self) -> list[str]:
        return [e for e in re.split(r"[\s,;]+", self.cleaned_data.get("emails") or "") if e]

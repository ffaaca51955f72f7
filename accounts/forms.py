from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import ApiClient, Scope, User


class SignupForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


class ProfileForm(forms.Form):
    """Name and log-in address; a new address needs the current password (whoever holds an
    open session must not be able to take the account over through password reset)."""

    full_name = forms.CharField(label="Name", max_length=150, required=False)
    email = forms.EmailField(label="Email address")
    current_password = forms.CharField(
        label="Current password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only to change the email address.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        email = (cleaned.get("email") or "").strip().lower()
        changed = email and email != self.user.email.lower()
        if changed and not self.user.check_password(cleaned.get("current_password") or ""):
            self.add_error(
                "current_password", "Enter your current password to change the email address."
            )
        cleaned.pop("current_password", None)
        return cleaned


class ApiClientForm(forms.Form):
    """A new OAuth client or key: which kind, what it may do, a note to recognise it by."""

    type = forms.ChoiceField(label="Kind", choices=ApiClient.Type.choices)
    description = forms.CharField(
        label="Description", max_length=200, required=False, help_text="e.g. “Backend server”."
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=Scope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty for the kind's defaults. Access keys can only write.",
    )

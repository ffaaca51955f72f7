from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin

from accounts.models import ApiClient, Scope, User


class SignupForm(SetPasswordMixin, forms.Form):
    """An address and a password. Not a model form: it must never say that an address
    already has an account (the service mails its owner instead)."""

    email = forms.EmailField(label="Email address", max_length=254)
    password1, password2 = SetPasswordMixin.create_password_fields()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        # Judged against a blank account with this address, whoever owns it.
        self.validate_password_for_user(User(email=cleaned.get("email") or ""))
        return cleaned


class EmailOnlyForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)


class VerifyForm(forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="The password you chose when you signed up.",
    )


class LoginForm(AuthenticationForm):
    """Django's log-in form; an account whose address is not confirmed cannot log in."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.email_verified:
            raise forms.ValidationError(
                "Confirm your email address first: follow the link we sent to it "
                "(or ask for a new link below).",
                code="unverified",
            )


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
        choices=[
            *Scope.choices,
            ("stats", "Plausible key: read statistics (stats)"),
            ("sites", "Plausible key: manage sites (sites)"),
        ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave empty for the kind's defaults. Access keys can only write.",
    )

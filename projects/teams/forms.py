"""Forms for signing in, creating and joining a team, invitations, roles and monthly budgets."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from projects.inputs import RefuseControlCharacters
from projects.models import Role


class LoginForm(RefuseControlCharacters, AuthenticationForm):
    """Django's login form, refusing before authentication a username no account can have: the failed
    attempt is recorded (django-axes), and PostgreSQL refuses NUL or text past the column."""

    def clean_username(self):
        username = self.cleaned_data["username"]
        if len(username) > self.fields["username"].max_length:
            raise forms.ValidationError(_("No account has a username that long."))
        return username


class InvitationForm(RefuseControlCharacters, forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)


class MemberRoleForm(RefuseControlCharacters, forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class MonthlyBudgetForm(RefuseControlCharacters, forms.Form):
    """A monthly budget in US dollars (the team's, or one member's cap); empty removes it."""

    monthly_budget = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=2,
        error_messages={"min_value": _("A budget can't be negative."),
                        "invalid": _("Enter the budget in US dollars, e.g. 250 or 99.50."),
                        "max_digits": _("That budget is too large: at most $99,999,999.99."),
                        "max_whole_digits": _("That budget is too large: at most $99,999,999.99."),
                        "max_decimal_places": _("Enter the budget in dollars and cents (at most 2 decimals).")})


class TeamForm(RefuseControlCharacters, forms.Form):
    name = forms.CharField(max_length=120)


class JoinForm(RefuseControlCharacters, forms.Form):
    """A new invitee chooses a username and password."""

    username = forms.CharField(max_length=150)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is taken; choose another."))
        return username

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


# --- Characters and consent ----------------------------------------------------

"""Teams: switching, members and roles, invitations."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from projects import selectors
from projects.access import (
    get_invitation,
    get_member_for,
    membership_for,
    require,
    require_team_creation,
)
from projects.activity import notifications
from projects.form_errors import error_text
from projects.middleware import SESSION_KEY
from projects.models import Membership
from projects.money import usd
from projects.teams import services
from projects.teams.forms import (
    InvitationForm,
    JoinForm,
    MemberRoleForm,
    MonthlyBudgetForm,
    TeamForm,
)


@login_required
@require_POST
def team_switch(request, team_pk):
    membership = membership_for(request.user, team_pk)
    request.session[SESSION_KEY] = membership.team_id
    return redirect("projects:project_list")


@login_required
@require_POST
def team_create(request):
    require_team_creation(request.user)
    form = TeamForm(request.POST)
    if form.is_valid():
        team = services.team_create(name=form.cleaned_data["name"], owner=request.user)
        request.session[SESSION_KEY] = team.pk
        messages.success(request, _("Created team %(team)s; you are its owner.") % {"team": team.name})
    else:
        messages.error(request, _("A team needs a name."))
    return redirect("projects:project_list")


@login_required
@require_http_methods(["GET", "POST"])
def team_members(request, team_pk):
    membership = membership_for(request.user, team_pk)
    team = membership.team
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        require(membership, "manage")
        if form.is_valid():
            try:
                invitation = services.invitation_create(team=team, invited_by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error("email", exc)
            else:
                _say_how_the_invitation_travels(request, invitation)
                return redirect("projects:team_members", team_pk=team.pk)
    page = selectors.team_members_for(team=team)
    context = {
        "team": team, "membership": membership, "form": form, "members": page.members,
        "invitations": page.invitations, "role_form": MemberRoleForm(), "month": page.month,
        "team_spend": page.team_spend, "mail_delivered": notifications.mail_is_delivered(),
        "invitation_base": notifications.studio_address(),  # as in the email: PUBLIC_BASE_URL, else this address
    }
    return render(request, "projects/team_members.html", context)


def _say_how_the_invitation_travels(request, invitation) -> None:
    if notifications.mail_is_delivered():
        messages.success(request, _("Invitation sent to %(email)s. Its link is also below, to copy.")
                         % {"email": invitation.email})
    else:
        messages.warning(request, _("Invitation made for %(email)s, but no email was sent: this studio has no mail "
                                    "server. Copy its link below and send it to them yourself.")
                         % {"email": invitation.email})


@login_required
@require_POST
def member_update(request, team_pk, member_pk):
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    member = get_object_or_404(Membership, pk=member_pk, team_id=team_pk)
    try:
        if request.POST.get("action") == "remove":
            services.membership_remove(membership=member, user=request.user)
            messages.success(request, _("Removed %(name)s from the team.") % {"name": member.user.get_username()})
        else:
            form = MemberRoleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Unknown role."))
            services.membership_set_role(membership=member, user=request.user, role=form.cleaned_data["role"])
            messages.success(request, _("%(name)s is now %(role)s.") % {"name": member.user.get_username(),
                                                                    "role": member.get_role_display().lower()})
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("projects:team_members", team_pk=team_pk)


@login_required
@require_POST
def team_training(request, team_pk):
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    choice = request.POST.get("do_not_train")
    if choice not in ("on", "off"):
        messages.error(request, _("Choose whether takes may be used for AI training."))
    else:
        services.team_set_do_not_train(team=membership.team, user=request.user, do_not_train=choice == "on")
        messages.success(request, _("New takes will be signed with “do not train”.") if choice == "on"
                         else _("New takes will no longer refuse AI training."))
    return redirect("projects:team_members", team_pk=team_pk)


@login_required
@require_POST
def team_budget(request, team_pk):
    """Owners set (or clear) what the whole team may spend on takes each calendar month."""
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    form = MonthlyBudgetForm(request.POST)
    if form.is_valid():
        amount = form.cleaned_data["monthly_budget"]
        services.team_budget_set(team=membership.team, user=request.user, amount=amount)
        messages.success(request, _("Team monthly budget set to %(amount)s.") % {"amount": usd(amount)} if amount is not None
                         else _("Team monthly budget removed: no monthly limit."))
    else:
        messages.error(request, error_text(form))
    return redirect("projects:team_members", team_pk=team_pk)


@login_required
@require_POST
def member_budget(request, team_pk, member_pk):
    """Owners set (or clear) one member's monthly cap."""
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    member = get_member_for(membership, member_pk)
    form = MonthlyBudgetForm(request.POST)
    if form.is_valid():
        amount = form.cleaned_data["monthly_budget"]
        services.member_cap_set(membership=member, user=request.user, amount=amount)
        name = member.user.get_username()
        messages.success(request, _("%(name)s's monthly cap set to %(amount)s.") % {"name": name, "amount": usd(amount)}
                         if amount is not None
                         else _("%(name)s's monthly cap removed: only the team's budget applies.") % {"name": name})
    else:
        messages.error(request, error_text(form))
    return redirect("projects:team_members", team_pk=team_pk)


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    invitation = get_invitation(token)
    if not invitation.is_usable:
        return render(request, "projects/invitation_invalid.html", {"invitation": invitation}, status=410)
    if request.user.is_authenticated and not invitation.is_for(request.user):
        return render(request, "projects/invitation_other_address.html", {"invitation": invitation}, status=403)
    # The invitee has an account already: they log in to join rather than make a second one.
    account_exists = not request.user.is_authenticated and services.invitation_account_exists(invitation=invitation)
    form = JoinForm(request.POST or None)
    if request.method == "POST" and not account_exists:
        try:
            if request.user.is_authenticated:
                membership = services.invitation_accept(invitation=invitation, user=request.user)
            elif form.is_valid():
                membership = services.invitation_accept(
                    invitation=invitation, username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                membership = None
        except ValidationError as exc:
            return render(request, "projects/invitation_invalid.html",
                          {"invitation": invitation, "reason": error_text(exc)}, status=410)
        if membership is not None:
            request.session[SESSION_KEY] = membership.team_id
            messages.success(request, _("Welcome to %(team)s.") % {"team": membership.team.name})
            return redirect("projects:project_list")
    return render(request, "projects/invitation_accept.html",
                  {"invitation": invitation, "form": form, "account_exists": account_exists},
                  status=409 if account_exists and request.method == "POST" else 200)

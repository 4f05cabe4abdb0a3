"""Journey: on a studio without a mail server (the default), an owner invites someone, is told no email was
sent, copies the invitation's link from the Team page and gives it to them; the link brings them in."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from projects.models import Membership, Role
from tests.browser.conftest import log_in


def test_an_owner_copies_the_invitation_link_and_the_invitee_joins_with_it(browser: Browser, live_server, owner,
                                                                           team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # EMAIL_HOST unset
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = log_in(context.new_page(), live_server.url, owner)
    page.goto(f"{live_server.url}/teams/{team.pk}/members/")
    expect(page.get_by_test_id("mail-not-sent")).to_contain_text("not emailed")
    page.get_by_test_id("invitations").get_by_label("Email").fill("ines@example.com")
    page.get_by_test_id("invitations").get_by_label("Role").select_option(Role.REVIEWER)
    page.get_by_role("button", name="Make invitation link").click()
    expect(page.locator(".msg")).to_contain_text("Invitation made for ines@example.com, but no email was sent")

    invitation = page.get_by_test_id("invitation").filter(has_text="ines@example.com")
    link = invitation.get_by_test_id("invitation-link").input_value()
    assert link == f"{live_server.url}/invitations/{team.invitations.get().token}/"
    invitation.get_by_test_id("copy-invitation-link").click()
    expect(invitation.get_by_test_id("copy-invitation-link")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    context.close()

    invitee = browser.new_context().new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", level=1)).to_have_text(f"Join {team.name}")
    invitee.get_by_label("Username").fill("ines")
    invitee.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    invitee.get_by_label("Password again").fill("a-long-pass-phrase")
    invitee.get_by_role("button", name="Join the team").click()
    expect(invitee.get_by_test_id("current-team")).to_have_text(team.name)
    assert Membership.objects.get(user__username="ines", team=team).role == Role.REVIEWER
    invitee.context.close()

"""Casting by @mention: the prompt suggests the team's characters as you type."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from projects.characters import consent
from projects.models import CharacterKind


def portrait():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue())


def test_typing_an_at_sign_suggests_characters_and_casting_follows(logged_in_page, live_server, team, owner,
                                                                   project):
    consent.character_create(team=team, user=owner, name="Captain Rao", kind=CharacterKind.FICTIONAL,
                             images=[portrait()], declares_fictional=True)
    page = logged_in_page(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    form = page.get_by_test_id("add-scene-form")
    form.get_by_label("Title").fill("Arrival")
    prompt = form.get_by_label("Prompt")
    prompt.click()
    prompt.press_sequentially("The ship docks. @Cap")
    suggestion = page.get_by_role("option", name="@Captain Rao")
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(prompt).to_have_value("The ship docks. @Captain Rao ")
    form.get_by_role("button", name="Add scene").click()
    expect(page.get_by_test_id("frame")).to_have_count(1)
    assert [c.name for c in project.scenes.get().cast.all()] == ["Captain Rao"]


def test_typing_an_at_sign_in_a_comment_suggests_teammates_and_the_mention_reaches_them(
        logged_in_page, live_server, reviewer, editor, outsider, scene, render_take):
    from django.contrib.auth import get_user_model

    from projects.models import Notification, NotificationKind

    get_user_model().objects.filter(pk=editor.pk).update(first_name="Eddie", last_name="Marsh")
    take = render_take(scene)
    page = logged_in_page(reviewer)
    page.goto(f"{live_server.url}/takes/{take.pk}/review/")
    body = page.get_by_test_id("comment-body")
    body.click()
    body.press_sequentially("Boat too small, @ma")  # a teammate's full name finds them too
    suggestion = page.get_by_role("option", name="@eddie Eddie Marsh")
    expect(suggestion).to_be_visible()
    expect(page.get_by_role("option", name=outsider.username)).to_have_count(0)  # another team's: never offered
    suggestion.click()
    expect(body).to_have_value("Boat too small, @eddie ")
    page.get_by_test_id("comment-submit").click()
    expect(page.get_by_test_id("comment").filter(has_text="@eddie")).to_be_visible()
    assert Notification.objects.filter(recipient=editor, kind=NotificationKind.MENTION).count() == 1

    # A reply suggests them as well; Tab takes the first.
    thread = page.get_by_test_id("comment").filter(has_text="Boat too small")
    thread.locator("summary", has_text="Reply").click()
    reply = thread.get_by_test_id("reply-body")
    reply.click()
    reply.press_sequentially("@e")
    expect(page.get_by_role("option", name="@eddie Eddie Marsh")).to_be_visible()
    reply.press("Tab")
    expect(reply).to_have_value("@eddie ")


def test_a_guest_is_offered_nobody_to_mention(page, live_server, project, owner, scene, render_take):
    from projects.review import guest_links

    take = render_take(scene)
    _link, token = guest_links.link_create(project=project, user=owner, label="Acme", scope="scenes",
                                           scenes=[scene], days=3)
    page.goto(f"{live_server.url}/review/{token}/")
    page.get_by_test_id("guest-name").fill("Grace")
    page.get_by_role("button", name="Start reviewing").click()
    body = page.locator(f"#take-{take.pk}").get_by_test_id("comment-body")
    body.click()
    body.press_sequentially("Hello @o")
    page.wait_for_timeout(300)
    expect(page.locator(".mention-suggestions")).to_have_count(0)

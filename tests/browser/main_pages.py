"""The studio's main pages, furnished as a team that has worked on a project has them.

`furnish()` builds a project whose every main page has something to show: a scene with two
finished takes (the first approved, so the scene can be compared and is in the cut), a second
approved scene (so Play all preloads the next scene in its hidden second player), a comment
with a reply, and a guest review link; `furnish_fields()` adds fields of the project's own (a choice
and tags, filled on the first scene) so the board, the panel and the Fields page show their field
controls. `main_pages()` names each page's address for the owner; `open_page()` waits until the page's scripts have built what they build.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Page

from generation.models import Render
from projects.models import Membership, Project, Role, Scene
from projects.review import guest_links
from projects.review import services as review
from projects.storyboard import fields
from projects.storyboard import services as storyboard
from projects.teams import services as team_services
from tests.conftest import PASSWORD


@dataclass
class Furnished:
    project: Project
    scenes: list[Scene]
    takes: list[Render]
    guest_token: str


def furnish(*, project, owner, editor, reviewer, make_scene, finished_take) -> Furnished:
    project.description = "A storm rolls over a fishing harbour: a three-minute short for the festival."
    project.save(update_fields=["description"])
    dawn = make_scene(title="Opening: the harbour at dawn", prompt="A harbour at dawn, mist on the water.", duration=2)
    storm = make_scene(title="The storm rolls in", prompt="Dark clouds race over the harbour.", duration=2)
    cafe = make_scene(title="Safe inside", prompt="A warm café, rain on the window.", duration=2)
    first, second = finished_take(dawn, user=editor), finished_take(dawn, user=editor)
    stormy = finished_take(storm, user=editor)
    review.take_approve(take=first, user=owner)
    review.take_approve(take=stormy, user=owner)
    comment = review.comment_add(take=second, author=reviewer, body="The mist lifts too early.", at=0.5,
                                 shared=True)
    review.comment_reply(parent=comment, author=editor, body="Slower in the next take.")
    review.comment_add(take=first, author=reviewer, body="Lovely light.", at=0.4, shared=True)
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[dawn], days=3)
    return Furnished(project=project, scenes=[dawn, storm, cafe], takes=[first, second, stormy], guest_token=token)


@dataclass
class Committed:
    """`furnish()`'s world built outside any test (committed rows), with the people and the makers a
    module adds to it with."""
    owner: object
    editor: object
    studio: Furnished
    make_scene: Callable[..., Scene]
    finished_take: Callable[..., Render]


def furnish_committed(*, encoded) -> Committed:
    """`furnish()` on the rows the tests' fixtures make (the same team, people and project), committed:
    for a module that builds its world once and sweeps its pages (tests/browser/conftest.py's
    `committed_world`)."""
    from generation.renders import services as generation

    User = get_user_model()
    owner = User.objects.create_user(username="olive", email="olive@example.com", password=PASSWORD)
    team = team_services.team_create(name="Harbour Films", owner=owner)
    editor = User.objects.create_user(username="eddie", email="eddie@example.com", password=PASSWORD)
    reviewer = User.objects.create_user(username="rita", email="rita@example.com", password=PASSWORD)
    Membership.objects.create(team=team, user=editor, role=Role.EDITOR)
    Membership.objects.create(team=team, user=reviewer, role=Role.REVIEWER)
    project = storyboard.project_create(team=team, user=owner, name="Harbour Story")

    def make_scene(title, prompt="A harbour at dawn, mist on the water.", duration=2):
        return storyboard.scene_create(project=project, user=owner, title=title, prompt=prompt, duration=duration,
                                       size="1280x720", camera_notes="slow push-in")

    def finished_take(scene, *, user):
        with encoded.in_use():
            take, _ = generation.render_create(scene=scene, user=user, connection=team.connections.get(kind="local"),
                                               model_id="previz-animatic-1", idempotency_key=uuid.uuid4())
        take.refresh_from_db()
        return take

    studio = furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                     finished_take=finished_take)
    return Committed(owner=owner, editor=editor, studio=studio, make_scene=make_scene, finished_take=finished_take)


def furnish_fields(studio: Furnished, *, owner) -> None:
    """A choice and a tags field, filled on the first scene."""
    project, dawn = studio.project, studio.scenes[0]
    shot = fields.field_create(project=project, user=owner, name="Shot type", kind="choice",
                               choices="Wide\nMedium\nClose-up")
    mood = fields.field_create(project=project, user=owner, name="Mood", kind="tags", choices="Calm\nStormy")
    dawn.refresh_from_db()
    fields.scene_fields_set(scene=dawn, user=owner, expected_version=dawn.version,
                            values={shot.key: "Wide", mood.key: "Calm"})


def main_pages(studio: Furnished) -> dict[str, str]:
    """name → path of every main page a team member (the owner) uses."""
    project, team = studio.project, studio.project.team
    dawn = studio.scenes[0]
    first, second, _ = studio.takes
    return {
        "board": reverse("projects:project_detail", args=[project.pk]),
        "scene panel": reverse("projects:scene_panel", args=[project.pk, dawn.pk]),
        "review": reverse("projects:take_review", args=[second.pk]),
        "compare": reverse("projects:scene_compare", args=[dawn.pk]) + f"?a={first.pk}&b={second.pk}",
        "play all": reverse("projects:project_cut", args=[project.pk]),
        "characters": reverse("projects:character_list", args=[team.pk]),
        "exports": reverse("generation:export_list", args=[project.pk]),
        "spend": reverse("generation:team_spend", args=[team.pk]),
        "team": reverse("projects:team_members", args=[team.pk]),
        "providers": reverse("generation:connection_list", args=[team.pk]),
        "inbox": reverse("projects:inbox"),
        "fields": reverse("projects:project_fields", args=[project.pk]),
    }


# The page's scripts are done: review, compare and Play all have built their players and bars.
SCRIPTS_DONE = """() => document.readyState === 'complete' && Array.from(
    document.querySelectorAll('[data-review], [data-compare], [data-cut]'))
    .every(box => box.dataset.ready && box.dataset.playerReady)"""


def open_page(page: Page, url: str) -> Page:
    page.goto(url)
    page.wait_for_function(SCRIPTS_DONE)
    return page


def enter_as_guest(page: Page, base_url: str, token: str, name: str = "Grace (Acme)") -> Page:
    page.goto(f"{base_url}{reverse('projects:guest_review', args=[token])}")
    page.get_by_test_id("guest-name").fill(name)
    page.get_by_role("button", name="Start reviewing").click()
    page.wait_for_function(SCRIPTS_DONE)
    return page

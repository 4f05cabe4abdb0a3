"""A frame reads like a storyboard's: the whole title, the action, the first lines and the camera notes
under the picture; a frame without a picture says what to do next."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from generation.models import Render, Status
from projects.live.fragments import draw_all
from projects.live.hub import Hub, Subscriber
from projects.models import Role
from projects.selectors.storyboard import FRAME_ACTION, excerpt
from projects.storyboard import services
from tests.live.sse import drain

LONG_TITLE = "The storm rolls in over the breakwater and the whole fleet runs for shelter"


def frame_html(page: str, scene) -> str:
    start = page.index(f'id="frame-{scene.pk}"')
    return page[start:page.index("</li>", start)]


def board(client, project) -> str:
    return client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()


def test_a_frame_shows_the_whole_title_the_action_the_lines_and_the_camera_notes(
        client_for, editor, project, make_scene, owner):
    from projects.storyboard.dialogue import services as dialogue

    scene = make_scene(title=LONG_TITLE, prompt="Dark clouds race over the harbour; waves slap the pier.",
                       camera_notes="wide shot, handheld")
    dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "HARBOURMASTER"), text="Mind the ropes!",
                               parenthetical="shouting")

    frame = frame_html(board(client_for(editor), project), scene)

    assert f'data-testid="frame-title">{LONG_TITLE}</span>' in frame  # not cut at ~15 characters
    assert "<p>Dark clouds race over the harbour; waves slap the pier.</p>" in frame
    assert '<span data-testid="frame-line"><b>HARBOURMASTER</b> <em>(shouting)</em> Mind the ropes!</span>' in frame
    assert "<small><b>Camera</b> wide shot, handheld</small>" in frame


def test_a_frame_says_only_what_a_scene_has(client_for, editor, project, make_scene):
    bare = make_scene(title="Title card", prompt="White letters on black.", camera_notes="")
    frame = frame_html(board(client_for(editor), project), bare)
    assert "<small>" not in frame and 'data-testid="frame-lines"' not in frame


def test_a_long_action_is_cut_at_a_word_and_the_whole_prompt_never_reaches_the_board(
        client_for, editor, project, make_scene):
    words = "gulls wheel over the harbour while the nets dry in the wind " * 500  # ~30,000 characters
    scene = make_scene(title="Nets", prompt=words.strip())
    frame = frame_html(board(client_for(editor), project), scene)
    shown = re.search(r"<p>([^<]*)</p>", frame).group(1)
    assert shown.endswith("…") and len(shown) <= FRAME_ACTION
    assert words.startswith(shown[:-1]) and shown[-2] != " "  # whole words, as typed
    assert len(frame) < 2000


@pytest.mark.parametrize(("text", "cut"), [
    ("Short and sweet.", "Short and sweet."),
    ("  Spaces\n\nand   lines  ", "Spaces and lines"),
    ("one two three four five six", "one two three…"),
    ("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqr…"),  # no space to cut at: cut the word
])
def test_an_excerpt_is_one_line_cut_at_a_word(text, cut):
    assert excerpt(text, 19) == cut


def placeholder(frame: str) -> str:
    found = re.search(r'<span class="frame-placeholder[^>]*>(.*?)</span>', frame)
    assert found is not None, "the frame shows a placeholder"
    return re.sub(r"<svg.*?</svg>", "", found.group(1))


def test_a_frame_without_a_picture_says_what_to_do(client_for, editor, viewer, project, make_scene):
    fresh, failing, rendering = make_scene(title="Fresh"), make_scene(title="Failing"), make_scene(title="Rendering")
    local = project.team.connections.get(kind="local")
    for scene, status in ((failing, Status.FAILED), (rendering, Status.RUNNING)):
        Render.objects.create(scene=scene, connection=local, number=1, provider="local", model="previz-animatic-1",
                              status=status, progress=40, recipe={"prompt": "x", "parameters": {"seconds": 2}})

    page = board(client_for(editor), project)
    assert placeholder(frame_html(page, fresh)) == "Open to render a previz (free)"
    assert placeholder(frame_html(page, failing)) == "No picture: open to see why"
    assert placeholder(frame_html(page, rendering)) == "The picture comes with the take"
    # Someone who cannot render is not told to.
    assert placeholder(frame_html(board(client_for(viewer), project), fresh)) == "No picture yet"


def test_a_teammates_board_gets_the_new_action_and_camera_notes(project, scene, owner):
    hub = Hub(draw_all, background=False)
    page = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.EDITOR, user_id=0))
    hub.pump()
    services.scene_update(scene=scene, expected_version=scene.version, user=owner,
                          prompt="Fog swallows the lighthouse.", camera_notes="crane down")
    hub.pump()
    html = "".join(message.data for message in drain(page))
    assert "<p>Fog swallows the lighthouse.</p>" in html and "<b>Camera</b> crane down" in html
